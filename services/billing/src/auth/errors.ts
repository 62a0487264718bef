// The errors billing answers when a caller's credentials or the auth service fail.
import { ApiError } from '@app/service'

/** Auth could not be asked (down, timing out, answering 5xx): nothing is written. */
export function authUnavailable(reason: string): ApiError {
  return new ApiError(
    503,
    'AUTH_UNAVAILABLE',
    `the auth service is unavailable (${reason}); nothing was written, retry shortly`,
  )
}

/** 401 with the codes auth uses for the same cases, so clients handle both services alike. */
export function unauthenticated(code: 'NOT_AUTHENTICATED' | 'INVALID_TOKEN', message: string) {
  return new ApiError(401, code, message)
}
