// One service's connection pool and Drizzle instance. Created by the service's db
// plugin at startup and closed in its onClose hook: no pool exists at import time.
//
// Everything here survives a transaction-mode pooler (PgBouncer) between the pool
// and PostgreSQL: no startup parameter but application_name (PgBouncer refuses
// others, such as statement_timeout: the request statement timeout is the runtime
// role's own setting, ALTER ROLE ... SET, applied by the bootstrap), no
// session-level SET, and named prepared statements can be turned off for poolers
// that cannot carry them across server connections (PgBouncer before 1.21).
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { connectClient, type RetryOptions } from './connect.js'
import { DescribedStatementsClient } from './described-statements.js'
import { isPipelinedRead, PipelinedQueries, type PipelinedQueriesOptions } from './pipelined-queries.js'

export interface ServiceDatabaseOptions<TSchema extends Record<string, unknown>> {
  url: string
  /** Shown in pg_stat_activity, so a DBA can tell the services' connections apart. */
  applicationName: string
  /** Drizzle tables and relations, for the relational query API. */
  schema?: TSchema
  /** Pool size. Small pools beat large ones on small machines; default 10. */
  max?: number
  /**
   * Named prepared statements (parsed, planned and their rows described once per
   * connection). Default true; false sends every query unnamed, for a transaction
   * pooler that does not track prepared statements (PgBouncer < 1.21 in transaction
   * mode).
   */
  preparedStatements?: boolean
  /**
   * Reads outside a transaction (a SELECT without a row lock) are pipelined on up to
   * this many shared connections (pipelined-queries.ts), besides the pool's; default 2.
   * 0: each query takes a connection of the pool, one query at a time.
   */
  pipelineConnections?: number
  /** How long a shared connection may answer nothing before reads go to the next; default STALL_MS. */
  pipelineStallMs?: number
  /** Limit on waiting for a free connection or a new one; default 5 s. */
  connectionTimeoutMs?: number
  /** Called when an idle client fails (for example the server restarted). */
  onIdleError?: (error: Error) => void
}

export interface ServiceDatabase<TSchema extends Record<string, unknown>> {
  /** Transactions check their connection out of it; its query() pipelines reads unless turned off. */
  pool: pg.Pool
  /** The shared connections that carry pool.query()'s reads (absent with pipelineConnections 0). */
  pipelined?: PipelinedQueries
  db: NodePgDatabase<TSchema>
  /** True when a trivial query succeeds now. */
  ping(): Promise<boolean>
  close(): Promise<void>
}

export function createServiceDatabase<TSchema extends Record<string, unknown> = Record<string, never>>(
  options: ServiceDatabaseOptions<TSchema>,
): ServiceDatabase<TSchema> {
  // Named statements are parsed and planned once per connection, and their rows
  // described once (described-statements.ts); unnamed, every time.
  const Client = options.preparedStatements === false ? UnnamedStatementsClient : DescribedStatementsClient
  const clientConfig = {
    connectionString: options.url,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  }
  const poolConfig = { ...clientConfig, max: options.max ?? 10, idleTimeoutMillis: 30_000, Client }
  const lanes = options.pipelineConnections ?? 2
  const pool =
    lanes > 0
      ? new PipelinedPool(poolConfig, {
          connections: lanes,
          ...(options.pipelineStallMs !== undefined ? { stallMs: options.pipelineStallMs } : {}),
          // `pipeline` is pg 8.23's (not yet in @types/pg).
          createClient: () => new Client({ ...clientConfig, pipeline: true } as pg.ClientConfig),
          onError: (error) => options.onIdleError?.(error),
        })
      : new pg.Pool(poolConfig)
  const pipelined = pool instanceof PipelinedPool ? pool.pipelined : undefined
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
    ...(pipelined ? { pipelined } : {}),
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

/**
 * pg.Pool whose query() pipelines reads on shared connections (pipelined-queries.ts);
 * connect() (a transaction's connection) and every other query are the pool's own.
 * Besides writes, a cursor or stream (a Submittable) and a query that reads its rows in
 * batches (`rows`) keep a portal open across round trips, which a shared connection
 * cannot carry (pg refuses them in pipeline mode): those take a connection of the pool.
 */
class PipelinedPool extends pg.Pool {
  readonly pipelined: PipelinedQueries

  constructor(config: pg.PoolConfig, pipeline: Omit<PipelinedQueriesOptions, 'overflow'>) {
    super(config)
    const poolQuery = (config: unknown, values: unknown, callback: unknown) =>
      (super.query as (...args: unknown[]) => unknown)(config, values, callback)
    this.pipelined = new PipelinedQueries({ ...pipeline, overflow: poolQuery })
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg.Pool.query has a dozen overloads; all pass through
  override query(config: any, values?: any, callback?: any): any {
    const text = typeof config === 'string' ? config : config?.text
    const shared =
      typeof text === 'string' &&
      typeof config?.submit !== 'function' &&
      !config?.rows &&
      isPipelinedRead(text)
    if (!shared) return (super.query as (...args: unknown[]) => unknown)(config, values, callback)
    return this.pipelined.query(config, values, callback)
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg.Pool.end's callback overload passes through
  override end(callback?: any): any {
    const ended = this.pipelined.end().then(() => super.end())
    if (typeof callback !== 'function') return ended
    ended.then(() => callback(), callback)
    return undefined
  }
}

/**
 * A pg client that sends every query as an unnamed statement. Repositories name
 * their hot statements (Drizzle's .prepare(name)); pg would Parse each name once per
 * connection and then only Bind/Execute it, which breaks when a pooler hands the
 * next transaction another server connection ("prepared statement ... does not
 * exist"). Dropping the name keeps the repositories' code the same either way.
 */
class UnnamedStatementsClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg.Client.query has a dozen overloads; all pass through
  override query(config: any, ...rest: any[]): any {
    const unnamed =
      config !== null &&
      typeof config === 'object' &&
      typeof config.submit !== 'function' &&
      typeof config.name === 'string' &&
      config.name
        ? { ...config, name: undefined }
        : config
    return (super.query as (...args: unknown[]) => unknown)(unnamed, ...rest)
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
