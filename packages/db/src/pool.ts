// One service's connection pool and Drizzle instance. Created by the service's db
// plugin at startup and closed in its onClose hook: no pool exists at import time.
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { connectClient, type RetryOptions } from './connect.js'

export interface ServiceDatabaseOptions<TSchema extends Record<string, unknown>> {
  url: string
  /** Shown in pg_stat_activity, so a DBA can tell the services' connections apart. */
  applicationName: string
  /** Drizzle tables and relations, for the relational query API. */
  schema?: TSchema
  /** Pool size. Small pools beat large ones on small machines; default 10. */
  max?: number
  /** Server-side limit per statement; default 5 s. 0 disables it. */
  statementTimeoutMs?: number
  /** Limit on waiting for a free connection or a new one; default 5 s. */
  connectionTimeoutMs?: number
  /** Called when an idle client fails (for example the server restarted). */
  onIdleError?: (error: Error) => void
}

export interface ServiceDatabase<TSchema extends Record<string, unknown>> {
  pool: pg.Pool
  db: NodePgDatabase<TSchema>
  /** True when a trivial query succeeds now. */
  ping(): Promise<boolean>
  close(): Promise<void>
}

export function createServiceDatabase<TSchema extends Record<string, unknown> = Record<string, never>>(
  options: ServiceDatabaseOptions<TSchema>,
): ServiceDatabase<TSchema> {
  const pool = new pg.Pool({
    connectionString: options.url,
    application_name: options.applicationName,
    max: options.max ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 5_000,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
  })
  // Idle clients error when the server goes away; pg emits that on the pool and an
  // unhandled 'error' event would crash the process. The pool replaces the client.
  pool.on('error', (error) => options.onIdleError?.(error))
  const db = drizzle(pool, { schema: options.schema ?? ({} as TSchema) })
  let closed = false
  return {
    pool,
    db,
    async ping() {
      try {
        await pool.query('SELECT 1')
        return true
      } catch {
        return false
      }
    },
    async close() {
      if (closed) return
      closed = true
      await pool.end()
    },
  }
}

/** Waits until the server accepts this URL's credentials, retrying with backoff. */
export async function waitForDatabase(
  url: string,
  options: RetryOptions & { applicationName?: string } = {},
): Promise<void> {
  const client = await connectClient(url, options)
  await client.end()
}
