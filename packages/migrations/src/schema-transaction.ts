// One step of the migration tools (a migration, a down, creating the ledger) runs
// in a transaction of its own, holding its schema's advisory lock. Every limit is
// set with SET LOCAL, so nothing outlives the transaction: through a
// transaction-mode pooler the server connection goes on to serve other clients,
// and a session-level SET would go with it. (Files marked `-- migrate:
// no-transaction` hold the same lock at session level instead: schema-session.ts.)
//
// Statements after the lock run under a lock_timeout: a DDL statement queued
// behind a long read would otherwise block every request that queues behind it
// for as long as it waits. When the timeout is exceeded the step is rolled back
// and tried again after a backoff, a bounded number of times; the final error
// names the sessions holding locks in the schema (pid, application, query, since
// when).
//
// Waiting for the schema's lock, a runner never sits in one statement for long: a
// waiting statement holds a snapshot, and CREATE INDEX CONCURRENTLY, run by the
// replica holding the lock, waits for every older snapshot to go away. The two
// would wait on each other until the deadlock detector cancelled the index build
// (leaving an INVALID index). So the wait is cut into slices shorter than
// deadlock_timeout, each its own transaction: between slices the waiter holds no
// snapshot, and the index build goes on.
import type pg from 'pg'
import { MigrationError, MigrationErrorCode } from './errors.js'
import type { MigrationLogger } from './logger.js'

// First key of the two-key advisory lock: "migr" in ASCII. The second key is the
// schema's hashtext, so each schema has its own lock and services never wait on
// each other. Transaction-level and session-level locks on the same keys conflict.
const LOCK_NAMESPACE = 0x6d696772

/** The advisory lock's two keys as query parameters: `($1, hashtext($2))`. */
export function schemaLockParams(schema: string): [number, string] {
  return [LOCK_NAMESPACE, schema]
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
/** SQLSTATE deadlock_detected: a waiting slice may see it where deadlock_timeout is tiny. */
const DEADLOCK_DETECTED = '40P01'

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number >= 0, got ${value}`)
  return value
}

export function lockTimeoutMsOf(options: LockTimeoutOptions): number {
  return nonNegativeInteger(options.lockTimeoutMs ?? LOCK_TIMEOUT_DEFAULTS.lockTimeoutMs, 'lockTimeoutMs')
}

const slices = new WeakMap<pg.ClientBase, number>()

/**
 * How long one slice of waiting for the schema lock may last: half the server's
 * deadlock_timeout (1 s by default), within 50 ms .. 1 s. Read once per connection.
 */
export async function lockWaitSliceMs(client: pg.ClientBase): Promise<number> {
  const known = slices.get(client)
  if (known !== undefined) return known
  const { rows } = await client.query<{ ms: number }>(
    "SELECT setting::int AS ms FROM pg_settings WHERE name = 'deadlock_timeout'",
  )
  const slice = Math.min(1_000, Math.max(50, Math.floor((rows[0]?.ms ?? 1_000) / 2)))
  slices.set(client, slice)
  return slice
}

/** True for an error that ends one slice of waiting (and only means: wait on). */
export function endsWaitSlice(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === LOCK_NOT_AVAILABLE || code === DEADLOCK_DETECTED
}

/**
 * BEGIN, then the schema's transaction-level lock: at once when it is free, else in
 * slices of waiting, each in a transaction of its own (see the header).
 */
async function beginHoldingSchemaLock(client: pg.ClientBase, schema: string): Promise<void> {
  let sliceMs = 0
  for (;;) {
    await client.query('BEGIN')
    try {
      // Migrations may legitimately run longer than the role's statement timeout.
      await client.query('SET LOCAL statement_timeout = 0')
      if (sliceMs === 0) {
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked',
          schemaLockParams(schema),
        )
        if (rows[0]!.locked) return
        sliceMs = await lockWaitSliceMs(client)
      }
      await client.query(`SET LOCAL lock_timeout = ${sliceMs}`)
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', schemaLockParams(schema))
      return
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      if (!endsWaitSlice(error)) throw error
    }
  }
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
  const lockTimeoutMs = lockTimeoutMsOf(options)
  await beginHoldingSchemaLock(client, schema)
  try {
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

/**
 * Sessions other than this one that hold granted locks on relations of `schema`,
 * oldest transaction first. With `snapshotsOlderThanMs`, also the sessions of this
 * database whose transaction (holding a snapshot) began longer ago than that: the
 * ones CREATE INDEX CONCURRENTLY and its kin wait for, whatever they locked.
 */
export async function lockHolders(
  client: pg.ClientBase,
  schema: string,
  options: { snapshotsOlderThanMs?: number } = {},
): Promise<LockHolder[]> {
  const { rows } = await client.query<{
    pid: number
    usename: string | null
    application_name: string | null
    state: string | null
    xact_start: Date | null
    query: string | null
    locks: string
  }>(
    `WITH holders AS (
       SELECT l.pid, string_agg(DISTINCT l.mode || ' on ' || c.relname, ', ') AS locks
         FROM pg_locks l
         JOIN pg_class c ON c.oid = l.relation
        WHERE l.granted AND l.pid <> pg_backend_pid()
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND c.relnamespace = to_regnamespace($1)
        GROUP BY l.pid
       UNION ALL
       SELECT a.pid, 'a snapshot older than the statement' AS locks
         FROM pg_stat_activity a
        WHERE $2::int IS NOT NULL AND a.pid <> pg_backend_pid()
          AND a.datname = current_database() AND a.backend_xmin IS NOT NULL
          AND a.xact_start < clock_timestamp() - make_interval(secs => $2::int / 1000.0)
     )
     SELECT a.pid, a.usename, a.application_name, a.state, a.xact_start, left(a.query, 200) AS query,
            string_agg(h.locks, ', ') AS locks
       FROM holders h JOIN pg_stat_activity a ON a.pid = h.pid
      GROUP BY a.pid, a.usename, a.application_name, a.state, a.xact_start, a.query
      ORDER BY a.xact_start NULLS LAST, a.pid`,
    [schema, options.snapshotsOlderThanMs ?? null],
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

export interface LockedStep {
  schema: string
  /** What is retried, as users know it: the file, or a file's statement. */
  name: string
  file?: string
  /** What stays after the final failure; default: nothing of `name` was applied. */
  outcome?: string
  /** The step waits for older snapshots too (CREATE INDEX CONCURRENTLY and kin): name those sessions. */
  waitsForSnapshots?: boolean
}

/**
 * Runs `attempt` (one whole step in its own transaction, or one statement of a
 * file without one) again while it fails on lock_timeout, with a doubling delay.
 * Other errors, and the last lock timeout, are thrown: the last one as
 * MIGRATION_LOCK_TIMEOUT naming the lock holders.
 */
export async function retryOnLockTimeout<T>(
  client: pg.ClientBase,
  step: LockedStep,
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
      const found = await lockHolders(client, step.schema, {
        snapshotsOlderThanMs: step.waitsForSnapshots ? lockTimeoutMs : undefined,
      }).catch(() => [])
      const holders = describeLockHolders(found, step.schema)
      const what = `${step.schema}: ${step.name} waited longer than lock_timeout (${lockTimeoutMs} ms) for a lock`
      if (tries > retries) {
        const outcome = step.outcome
          ? `${step.outcome} Retry when that session has finished (or end it).`
          : `Nothing of ${step.name} was applied; retry when that session has finished (or end it).`
        throw new MigrationError(
          MigrationErrorCode.LockTimeout,
          `${what}, ${tries} time(s); gave up. Held by: ${holders}. ${outcome}`,
          { file: step.file, cause: error },
        )
      }
      options.logger.warn(
        { schema: step.schema, migration: step.name, attempt: tries, retryInMs: delayMs },
        `${what}; ${step.outcome ? 'stopped' : 'rolled back'}, retry ${tries} of ${retries} in ${delayMs} ms. Held by: ${holders}`,
      )
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      delayMs = Math.min(delayMs * 2, 30_000)
    }
  }
}
