// Asks auth whether a user exists (GET /auth/users/{id}), forwarding the caller's
// own bearer token, as the contract says. Billing holds no copy of auth's users and
// no foreign key into its schema: this call, made before anything is written, is
// the check. Any failure to get an answer is 503 AUTH_UNAVAILABLE.
import { kitErrors } from '@app/service'

export interface AuthUsersClient {
  /** True when auth knows the user, false when it answers 404 USER_NOT_FOUND. */
  exists(userId: string, bearerToken: string): Promise<boolean>
}

export function createAuthUsersClient(options: { authUrl: string; timeoutMs: number }): AuthUsersClient {
  return {
    async exists(userId, bearerToken) {
      let status: number
      let body: string
      try {
        const response = await fetch(`${options.authUrl}/auth/users/${encodeURIComponent(userId)}`, {
          headers: { authorization: `Bearer ${bearerToken}`, accept: 'application/json' },
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        })
        status = response.status
        body = await response.text()
      } catch (error) {
        const timedOut = error instanceof Error && error.name === 'TimeoutError'
        throw authUnavailable(timedOut ? `no answer within ${options.timeoutMs} ms` : describeFailure(error))
      }
      if (status === 200) return true
      // Only auth's own "no such user" counts: a 404 from a wrong AUTH_URL (no such
      // route) must not turn into "unknown user".
      if (status === 404 && errorCode(body) === 'USER_NOT_FOUND') return false
      if (status === 401) {
        throw kitErrors.error('INVALID_TOKEN', 'the auth service rejected the access token; log in again')
      }
      throw authUnavailable(`GET /auth/users/{id} answered ${status}`)
    },
  }
}

function errorCode(body: string): unknown {
  try {
    return (JSON.parse(body) as { code?: unknown }).code
  } catch {
    return undefined
  }
}

/** Auth could not be asked (down, timing out, answering 5xx): nothing is written. */
function authUnavailable(reason: string) {
  return kitErrors.error(
    'AUTH_UNAVAILABLE',
    `the auth service is unavailable (${reason}); nothing was written, retry shortly`,
  )
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  // undici puts the socket error (ECONNREFUSED, ...) in `cause`.
  const cause = error.cause as { code?: string; message?: string } | undefined
  return cause?.code ?? cause?.message ?? error.message
}
