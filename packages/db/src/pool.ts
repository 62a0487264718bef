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
  // A checked-out client has no listener of the pool's: when the server ends the
  // connection between two statements of a transaction (a restart, a failover), pg
  // emits 'error' on the client itself, and unhandled that kills the process. The
  // statement that runs next on it fails (503) and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => {}))
  const schema = options.schema ?? ({} as TSchema)
  const db = drizzle(pool, { schema })
  // drizzle-orm's node-postgres transaction() sends BEGIN before the try/finally that
  // releases the pooled client: when BEGIN fails (the server restarted, the connection
  // died) the client is never given back, a few of those exhaust the pool, and
  // pool.end() then waits forever (drizzle-orm issues 6023 and 6241). So the client is
  // checked out, and always released, here; drizzle runs the transaction on it (one
  // Drizzle instance per connection: building one costs about 60 µs).
  const onConnection = new WeakMap<pg.PoolClient, NodePgDatabase<TSchema>>()
  db.transaction = (async (work, config) => {
    const client = await pool.connect()
    try {
      let single = onConnection.get(client)
      if (!single) {
        single = drizzle(client, { schema })
        onConnection.set(client, single)
      }
      return await single.transaction(work, config)
    } finally {
      client.release()
    }
  }) as typeof db.transaction
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
