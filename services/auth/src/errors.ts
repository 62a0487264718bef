// auth's own error codes, beside the kit's shared ones: what its routes throw and
// what its OpenAPI document lists per operation and status.
import { defineErrors } from '@app/service'

export const errors = defineErrors({
  USERNAME_TAKEN: { status: 409, description: 'the username is taken: choose another' },
  EMAIL_TAKEN: { status: 409, description: 'a user with this email (ignoring case) exists: log in instead' },
  USER_NOT_FOUND: { status: 404, description: 'no enabled user has this id' },
  INVALID_CREDENTIALS: {
    status: 401,
    description: 'incorrect username or password (which of the two is not said)',
  },
})
