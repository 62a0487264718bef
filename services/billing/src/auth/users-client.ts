// Asks auth whether a user exists (GET /auth/users/{id}), forwarding the caller's
// own bearer token, as the contract says. Billing holds no copy of auth's users and
// no foreign key into its schema: this call, made before anything is written, is
// the check. Any failure to get an answer is 503 AUTH_UNAVAILABLE.
//
// Through node:http(s) with a keep-alive agent rather than fetch: fetch cost about
// 240 µs of CPU per call here (its web streams, AbortSignal and Request/Response
// objects), node:http about 35 (bench/README.md, issue 16's sixth pass), on every
// subscription a user takes. undici's request() would cost about the same as
// node:http but adds a library to the bundle every start loads.
import http from 'node:http'
import https from 'node:https'
import { kitErrors } from '@app/service'

export interface AuthUsersClient {
  /** True when auth knows the user, false when it answers 404 USER_NOT_FOUND. */
  exists(userId: string, bearerToken: string): Promise<boolean>
  /** Closes the connections kept open to auth. */
  close(): void
}

interface Answer {
  status: number
  body: string
}

/** The whole answer did not arrive within the timeout. */
class NoAnswerInTime extends Error {}

export function createAuthUsersClient(options: { authUrl: string; timeoutMs: number }): AuthUsersClient {
  const transport = new URL(options.authUrl).protocol === 'https:' ? https : http
  // Connections are reused and, idle, closed a second before auth's keep-alive
  // timeout runs out (node's agent reads the Keep-Alive header auth sends).
  const agent = new transport.Agent({ keepAlive: true })

  const get = (url: string, headers: Record<string, string>) =>
    new Promise<Answer>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(deadline)
        reject(error)
      }
      // Redirects are not followed: a 3xx is an answer like any other (unavailable).
      const request = transport.get(url, { agent, headers }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('error', fail)
        response.on('end', () => {
          clearTimeout(deadline)
          resolve({ status: response.statusCode ?? 0, body })
        })
      })
      request.on('error', fail)
      // One deadline for the whole answer, headers and body: the promise fails with it
      // first, whatever the socket's destruction then reports.
      const deadline = setTimeout(() => {
        reject(new NoAnswerInTime())
        request.destroy()
      }, options.timeoutMs)
    })

  return {
    async exists(userId, bearerToken) {
      let answer: Answer
      try {
        answer = await get(`${options.authUrl}/auth/users/${encodeURIComponent(userId)}`, {
          authorization: `Bearer ${bearerToken}`,
          accept: 'application/json',
        })
      } catch (error) {
        throw authUnavailable(
          error instanceof NoAnswerInTime
            ? `no answer within ${options.timeoutMs} ms`
            : describeFailure(error),
        )
      }
      const { status, body } = answer
      if (status === 200) return true
      // Only auth's own "no such user" counts: a 404 from a wrong AUTH_URL (no such
      // route) must not turn into "unknown user".
      if (status === 404 && errorCode(body) === 'USER_NOT_FOUND') return false
      if (status === 401) {
        throw kitErrors.error('INVALID_TOKEN', 'the auth service rejected the access token; log in again')
      }
      throw authUnavailable(`GET /auth/users/{id} answered ${status}`)
    },
    close() {
      agent.destroy()
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
  // A socket error's code (ECONNREFUSED, ECONNRESET, ...), else its message.
  return (error as NodeJS.ErrnoException).code ?? error.message
}
