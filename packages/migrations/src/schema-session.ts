// A file marked `-- migrate: no-transaction` runs statement by statement, so the
// schema's advisory lock is held at session level for the whole file
// (pg_advisory_lock, released by pg_advisory_unlock, or by the server when the
// connection dies). It conflicts with the transaction-level lock other runners
// take on the same two keys, so the file is still applied exactly once.
//
// That needs one server session for the whole file: a direct connection. Through a
// transaction pooler (PgBouncer in transaction mode) each statement may run on
// another server connection, and a session lock or SET would stay behind on one
// that then serves other clients. The check: the process id the server announced
// in the connection's startup (BackendKeyData, kept by pg as client.processID) is
// the backend that answers pg_backend_pid(). A direct connection always matches;
// a pooler answers the startup itself with a key of its own (PgBouncer's is
// random), so it never does, whichever server connection it picks. A plain TCP
// proxy forwards the server's key, and keeps one session: it passes, rightly.
//
// The limits are session SETs here (there is no transaction to SET LOCAL in),
// saved first and put back afterwards, on the direct connection only.
import type pg from 'pg'
import { MigrationError, MigrationErrorCode } from './errors.js'
import { quoteIdent } from './ledger.js'
import {
  endsWaitSlice,
  type LockTimeoutOptions,
  lockTimeoutMsOf,
  lockWaitSliceMs,
  schemaLockParams,
} from './schema-transaction.js'

/** Settings this module changes, put back as they were when the file is done. */
const SESSION_SETTINGS = [
  'statement_timeout',
  'lock_timeout',
  'search_path',
  'client_connection_check_interval',
] as const

// A killed runner's statement (a CREATE INDEX CONCURRENTLY waiting for old
// snapshots, say) would otherwise run on, holding the schema lock, until it next
// writes to the dead socket. PostgreSQL 14+ checks the socket every interval while
// a statement runs and cancels it when the client is gone, which releases the lock
// and leaves at most an INVALID index for the next run to rebuild.
const CONNECTION_CHECK_MS = 1_000

export interface SessionFile {
  name: string
  path?: string
}

/** Refuses a connection that does not keep one server session (see the header). */
export async function assertDirectConnection(
  client: pg.ClientBase,
  schema: string,
  file: SessionFile,
): Promise<void> {
  const announced = (client as { processID?: number | null }).processID ?? null
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  const pid = rows[0]!.pid
  if (announced === pid) return
  throw new MigrationError(
    MigrationErrorCode.NeedsDirectConnection,
    `${schema}: ${file.name} runs without a transaction (its first line is "-- migrate: no-transaction"), so it needs one server session for the whole file, and this connection does not keep one: the server process running its statements (pid ${pid}) is not the one the connection was opened with (${announced ?? 'unknown'}). It goes through a pooler, e.g. PgBouncer in transaction mode, which hands each statement to any server connection. Nothing of ${file.name} was applied. Point MIGRATION_DATABASE_URL directly at PostgreSQL (README: Production topology).`,
    { file: file.path },
  )
}

async function saveSettings(client: pg.ClientBase): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; value: string | null }>(
    'SELECT name, current_setting(name, true) AS value FROM unnest($1::text[]) AS name',
    [SESSION_SETTINGS],
  )
  return new Map(rows.filter((r) => r.value !== null).map((r) => [r.name, r.value!]))
}

async function restoreSettings(client: pg.ClientBase, saved: Map<string, string>): Promise<void> {
  for (const [name, value] of saved) await client.query('SELECT set_config($1, $2, false)', [name, value])
}

/** pg_advisory_lock on the schema's keys, waited for in slices (see schema-transaction.ts). */
async function lockSchemaSession(client: pg.ClientBase, schema: string): Promise<void> {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
    schemaLockParams(schema),
  )
  if (rows[0]!.locked) return
  await client.query(`SET lock_timeout = ${await lockWaitSliceMs(client)}`)
  for (;;) {
    try {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', schemaLockParams(schema))
      return
    } catch (error) {
      if (!endsWaitSlice(error)) throw error
    }
  }
}

/**
 * Runs `work` holding the schema's session-level lock on a direct connection, with
 * statement_timeout 0, the lock_timeout of `options` and search_path set to the
 * schema; the connection's own settings are restored afterwards.
 */
export async function withSchemaSessionLock<T>(
  client: pg.ClientBase,
  schema: string,
  file: SessionFile,
  options: LockTimeoutOptions,
  work: () => Promise<T>,
): Promise<T> {
  const lockTimeoutMs = lockTimeoutMsOf(options)
  await assertDirectConnection(client, schema, file)
  const saved = await saveSettings(client)
  try {
    await client.query('SET statement_timeout = 0')
    await lockSchemaSession(client, schema)
    try {
      await client.query(`SET lock_timeout = ${lockTimeoutMs}`)
      // Unqualified names in hand-written SQL land in the service's schema, never in public.
      await client.query(`SET search_path TO ${quoteIdent(schema)}`)
      if (saved.has('client_connection_check_interval')) {
        // Refused on platforms without the kernel support: then the statement runs on.
        await client.query(`SET client_connection_check_interval = ${CONNECTION_CHECK_MS}`).catch(() => {})
      }
      return await work()
    } finally {
      await client
        .query('SELECT pg_advisory_unlock($1, hashtext($2))', schemaLockParams(schema))
        .catch(() => {})
    }
  } finally {
    await restoreSettings(client, saved).catch(() => {})
  }
}
