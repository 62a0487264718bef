// auth's own error codes, beside the kit's shared ones: what its routes throw and
// what its OpenAPI document lists per operation and status.
import { defineErrors } from '@app/service'

export const errors = defineErrors({
  USERNAME_TAKEN: { status: 409, description: 'the username is taken: choose another' },
  USER_NOT_FOUND: { status: 404, description: 'no enabled user has this id' },
  INVALID_CREDENTIALS: {
    status: 401,
    description: 'incorrect username or password (which of the two is not said)',
  },
  LOGIN_BACKOFF: {
    status: 429,
    description:
      'too many failed logins for this username, from any address: retry after Retry-After seconds (the wait doubles with each further failure)',
  },
  BUSY: {
    status: 503,
    description:
      'too many password hashes and checks in progress: nothing was done, retry after Retry-After seconds',
  },
})
