// One step of the migration tools (a migration, a down, creating the ledger) runs
// in a transaction of its own, holding its schema's advisory lock. Every limit is
// set with SET LOCAL, so nothing outlives the transaction: through a
// transaction-mode pooler the server connection goes on to serve other clients,
// and a session-level SET would go with it.
//
// Statements after the lock run under a lock_timeout: a DDL statement queued
// behind a long read would otherwise block every request that queues behind it
// for as long as it waits. When the timeout is exceeded the step is rolled back
// and tried again after a backoff, a bounded number of times; the final error
// names the sessions holding locks in the schema (pid, application, since when).
import type pg from 'pg'
import { MigrationError, MigrationErrorCode } from './errors.js'
import type { MigrationLogger } from './logger.js'

// First key of the two-key advisory lock: "migr" in ASCII. The second key is the
// schema's hashtext, so each schema has its own lock and services never wait on
// each other.
const LOCK_NAMESPACE = 0x6d696772

/**
 * Transaction-scoped, so it is released by COMMIT or ROLLBACK (or by the server
 * when the connection dies) and works behind a transaction-mode pooler.
 */
export async function lockSchema(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, schema])
}

export interface LockTimeoutOptions {
  /** lock_timeout of every statement after the schema lock, in ms; 0 waits forever. Default 5000. */
  lockTimeoutMs?: number
  /** How many times a step that hit lock_timeout is tried again. Default 4. */
  lockRetries?: number
  /** Wait before the first retry, doubled for each further one (at most 30 s). Default 1000 ms. */
  lockRetryDelayMs?: number
}

export const LOCK_TIMEOUT_DEFAULTS = { lockTimeoutMs: 5_000, lockRetries: 4, lockRetryDelayMs: 1_000 }

/** SQLSTATE lock_not_available: lock_timeout was exceeded (or NOWAIT failed). */
const LOCK_NOT_AVAILABLE = '55P03'

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number >= 0, got ${value}`)
  return value
}

/**
 * BEGIN, the schema's lock, `work`, COMMIT (ROLLBACK when `work` throws). The lock
 * itself is waited for without limit (another replica is migrating; its transaction
 * ends, or its connection dies and the server releases the lock).
 */
export async function inSchemaTransaction<T>(
  client: pg.ClientBase,
  schema: string,
  options: LockTimeoutOptions,
  work: () => Promise<T>,
): Promise<T> {
  const lockTimeoutMs = nonNegativeInteger(
    options.lockTimeoutMs ?? LOCK_TIMEOUT_DEFAULTS.lockTimeoutMs,
    'lockTimeoutMs',
  )
  await client.query('BEGIN')
  try {
    // Migrations may legitimately run longer than the role's statement timeout, and
    // waiting for another runner's lock is not a stuck lock queue.
    await client.query('SET LOCAL statement_timeout = 0')
    await client.query('SET LOCAL lock_timeout = 0')
    await lockSchema(client, schema)
    await client.query(`SET LOCAL lock_timeout = ${lockTimeoutMs}`)
    const result = await work()
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** True when `error`, or an error it wraps, is PostgreSQL's lock_not_available. */
export function isLockTimeout(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

export interface LockHolder {
  pid: number
  user: string | null
  applicationName: string | null
  state: string | null
  /** When its current transaction began (null when PostgreSQL hides it from this role). */
  transactionStart: Date | null
  query: string | null
  locks: string
}

/** Sessions other than this one that hold granted locks on relations of `schema`, oldest transaction first. */
export async function lockHolders(client: pg.ClientBase, schema: string): Promise<LockHolder[]> {
  const { rows } = await client.query<{
    pid: number
    usename: string | null
    application_name: string | null
    state: string | null
    xact_start: Date | null
    query: string | null
    locks: string
  }>(
    `SELECT a.pid, a.usename, a.application_name, a.state, a.xact_start, left(a.query, 200) AS query,
            string_agg(DISTINCT l.mode || ' on ' || c.relname, ', ') AS locks
       FROM pg_locks l
       JOIN pg_class c ON c.oid = l.relation
       JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND c.relnamespace = to_regnamespace($1)
      GROUP BY a.pid, a.usename, a.application_name, a.state, a.xact_start, a.query
      ORDER BY a.xact_start NULLS LAST, a.pid`,
    [schema],
  )
  return rows.map((row) => ({
    pid: row.pid,
    user: row.usename,
    applicationName: row.application_name,
    state: row.state,
    transactionStart: row.xact_start,
    query: row.query,
    locks: row.locks,
  }))
}

export function describeLockHolders(holders: LockHolder[], schema: string): string {
  if (holders.length === 0) return `no session holds a lock in schema "${schema}" any more`
  return holders
    .map((h) => {
      const parts = [
        `pid ${h.pid}`,
        h.user ? `user ${h.user}` : null,
        `application_name ${JSON.stringify(h.applicationName ?? '')}`,
        h.transactionStart ? `in a transaction since ${h.transactionStart.toISOString()}` : null,
        h.state ? `state ${h.state}` : null,
        h.query ? `query ${JSON.stringify(h.query)}` : null,
        `holding ${h.locks}`,
      ]
      return parts.filter(Boolean).join(', ')
    })
    .join('; ')
}

/**
 * Runs `attempt` (one whole step in its own transaction) again while it fails on
 * lock_timeout, with a doubling delay. Other errors, and the last lock timeout,
 * are thrown: the last one as MIGRATION_LOCK_TIMEOUT naming the lock holders.
 */
export async function retryOnLockTimeout<T>(
  client: pg.ClientBase,
  step: { schema: string; name: string; file?: string },
  options: LockTimeoutOptions & { logger: MigrationLogger },
  attempt: () => Promise<T>,
): Promise<T> {
  const retries = nonNegativeInteger(options.lockRetries ?? LOCK_TIMEOUT_DEFAULTS.lockRetries, 'lockRetries')
  const lockTimeoutMs = options.lockTimeoutMs ?? LOCK_TIMEOUT_DEFAULTS.lockTimeoutMs
  let delayMs = options.lockRetryDelayMs ?? LOCK_TIMEOUT_DEFAULTS.lockRetryDelayMs
  for (let tries = 1; ; tries++) {
    try {
      return await attempt()
    } catch (error) {
      if (!isLockTimeout(error)) throw error
      const holders = describeLockHolders(await lockHolders(client, step.schema).catch(() => []), step.schema)
      const what = `${step.schema}: ${step.name} waited longer than lock_timeout (${lockTimeoutMs} ms) for a lock`
      if (tries > retries) {
        throw new MigrationError(
          MigrationErrorCode.LockTimeout,
          `${what}, ${tries} time(s); gave up. Held by: ${holders}. Nothing of ${step.name} was applied; retry when that session has finished (or end it).`,
          { file: step.file, cause: error },
        )
      }
      options.logger.warn(
        { schema: step.schema, migration: step.name, attempt: tries, retryInMs: delayMs },
        `${what}; rolled back, retry ${tries} of ${retries} in ${delayMs} ms. Held by: ${holders}`,
      )
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      delayMs = Math.min(delayMs * 2, 30_000)
    }
  }
}
