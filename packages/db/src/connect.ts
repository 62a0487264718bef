// Connecting at startup: transient failures (server still starting, DNS not yet
// resolvable in a container network, connection refused) are retried with capped
// exponential backoff for a bounded time; permanent ones (bad password, missing
// database) fail at once. Errors name host, port and database, never the password.
import pg from 'pg'
import { describeTarget } from './connection-target.js'

export interface RetryOptions {
  /** Give up after this long. Default 30 s. */
  timeoutMs?: number
  /** First delay between attempts; doubles up to maxDelayMs. Default 100 ms. */
  initialDelayMs?: number
  maxDelayMs?: number
  /** Called before each wait, e.g. to log "database not reachable, retrying". */
  onRetry?: (info: { attempt: number; delayMs: number; error: Error }) => void
}

export class DatabaseUnavailableError extends Error {
  readonly code = 'DB_UNAVAILABLE'
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message)
    this.name = 'DatabaseUnavailableError'
  }
}

// SQLSTATEs that mean "try again shortly": the server is starting, shutting down
// or out of connection slots.
const TRANSIENT_SQLSTATES = new Set(['57P03', '57P01', '57P02', '53300', '08000', '08001', '08006'])
const TRANSIENT_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
])

export function isTransientConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: string }).code
  if (code && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_ERRNOS.has(code))) return true
  // pg reports a closed socket during startup and its own connect timeout this way,
  // and the next statement on a connection the server has just ended (a restart in
  // the middle of a transaction) as "not queryable".
  return /Connection terminated|timeout expired|not queryable/i.test(error.message)
}

export async function withRetry<T>(
  url: string,
  attempt: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const maxDelayMs = options.maxDelayMs ?? 2_000
  let delayMs = options.initialDelayMs ?? 100
  const deadline = Date.now() + timeoutMs
  for (let n = 1; ; n++) {
    try {
      return await attempt()
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error))
      if (!isTransientConnectionError(err)) {
        throw new DatabaseUnavailableError(
          `cannot connect to Postgres at ${describeTarget(url)}: ${err.message}`,
          err,
        )
      }
      const remaining = deadline - Date.now()
      if (remaining <= 0) {
        throw new DatabaseUnavailableError(
          `Postgres at ${describeTarget(url)} is unreachable: gave up after ${n} attempts in ${Math.round(timeoutMs / 1000)} s (${err.message || (err as { code?: string }).code})`,
          err,
        )
      }
      const wait = Math.min(delayMs, remaining)
      options.onRetry?.({ attempt: n, delayMs: wait, error: err })
      await new Promise((resolve) => setTimeout(resolve, wait))
      delayMs = Math.min(delayMs * 2, maxDelayMs)
    }
  }
}

/** A single connected client, retried while the server is not reachable yet. */
export async function connectClient(
  url: string,
  options: RetryOptions & { applicationName?: string } = {},
): Promise<pg.Client> {
  return withRetry(
    url,
    async () => {
      const client = new pg.Client({
        connectionString: url,
        application_name: options.applicationName,
        connectionTimeoutMillis: 5_000,
      })
      // A client whose server goes away emits 'error'; without a listener that crashes the process.
      client.on('error', () => {})
      try {
        await client.connect()
        return client
      } catch (error) {
        await client.end().catch(() => {})
        throw error
      }
    },
    options,
  )
}
