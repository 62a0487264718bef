// The ledger: `<schema>.__drizzle_migrations`, drizzle's own table shape (id, hash,
// created_at = the journal's `when`) inside the service's schema, plus an
// `applied_at` column with a default, so drizzle-kit's inserts still work and
// `status` can say when each migration ran.
import type pg from 'pg'
import { MigrationError, MigrationErrorCode } from './errors.js'

export const LEDGER_TABLE = '__drizzle_migrations'

// First key of the two-key advisory lock: "migr" in ASCII. The second key is the
// schema's hashtext, so each schema has its own lock and services never wait on
// each other.
const LOCK_NAMESPACE = 0x6d696772

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new MigrationError(
      MigrationErrorCode.SchemaInvalid,
      `schema name "${schema}" must be lower case letters, digits and underscores, starting with a letter`,
    )
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export function ledgerTable(schema: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(LEDGER_TABLE)}`
}

/**
 * Transaction-scoped, so it is released by COMMIT or ROLLBACK (or by the server
 * when the connection dies) and works behind a transaction-mode pooler.
 */
export async function lockSchema(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, schema])
}

/** Non-blocking variant, for tests and tools that need to know whether a migration is running. */
export async function tryLockSchema(client: pg.ClientBase, schema: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked',
    [LOCK_NAMESPACE, schema],
  )
  return rows[0]?.locked === true
}

export interface LedgerRow {
  id: number
  hash: string
  /** The journal `when` of the migration this row records. */
  createdAt: number
  appliedAt: Date | null
}

interface LedgerState {
  schemaExists: boolean
  ledgerExists: boolean
  hasAppliedAt: boolean
}

async function inspectLedger(client: pg.ClientBase, schema: string): Promise<LedgerState> {
  const { rows } = await client.query<{
    schema_exists: boolean
    ledger_exists: boolean
    has_applied_at: boolean
  }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema_exists,
            to_regclass($2) IS NOT NULL AS ledger_exists,
            EXISTS (SELECT 1 FROM pg_attribute
                     WHERE attrelid = to_regclass($2) AND attname = 'applied_at' AND NOT attisdropped) AS has_applied_at`,
    [schema, ledgerTable(schema)],
  )
  const row = rows[0]!
  return {
    schemaExists: row.schema_exists,
    ledgerExists: row.ledger_exists,
    hasAppliedAt: row.has_applied_at,
  }
}

/**
 * Creates the schema (only when missing, so a role that owns an existing schema
 * needs no CREATE on the database) and the ledger, race-free under the schema lock.
 */
export async function ensureLedger(
  client: pg.ClientBase,
  schema: string,
): Promise<{ createdSchema: boolean }> {
  const before = await inspectLedger(client, schema)
  if (before.ledgerExists && before.hasAppliedAt) return { createdSchema: false }

  await client.query('BEGIN')
  try {
    await lockSchema(client, schema)
    const state = await inspectLedger(client, schema)
    if (!state.schemaExists) {
      try {
        await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`)
      } catch (error) {
        const code = (error as { code?: string }).code
        const hint =
          code === '42501'
            ? ' (permission denied: create it beforehand, e.g. with `make bootstrap`, or grant CREATE on the database)'
            : ''
        throw new MigrationError(
          MigrationErrorCode.SchemaInvalid,
          `schema "${schema}" does not exist and could not be created: ${(error as Error).message}${hint}`,
          { cause: error },
        )
      }
    }
    await client.query(`CREATE TABLE IF NOT EXISTS ${ledgerTable(schema)} (
      id SERIAL PRIMARY KEY,
      hash text NOT NULL,
      created_at bigint,
      applied_at timestamptz DEFAULT now()
    )`)
    if (state.ledgerExists && !state.hasAppliedAt) {
      // A ledger that drizzle-kit created: add the column without backfilling a
      // wrong time into the rows that are already there.
      await client.query(`ALTER TABLE ${ledgerTable(schema)} ADD COLUMN IF NOT EXISTS applied_at timestamptz`)
      await client.query(`ALTER TABLE ${ledgerTable(schema)} ALTER COLUMN applied_at SET DEFAULT now()`)
    }
    await client.query('COMMIT')
    return { createdSchema: !state.schemaExists }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** The ledger's rows, oldest first; empty when there is no ledger yet. Never writes. */
export async function readLedger(client: pg.ClientBase, schema: string): Promise<LedgerRow[]> {
  const state = await inspectLedger(client, schema)
  if (!state.ledgerExists) return []
  return readLedgerRows(client, schema, state.hasAppliedAt)
}

export async function readLedgerRows(
  client: pg.ClientBase,
  schema: string,
  hasAppliedAt = true,
): Promise<LedgerRow[]> {
  const { rows } = await client.query<{
    id: number
    hash: string
    created_at: string | null
    applied_at: Date | null
  }>(
    `SELECT id, hash, created_at, ${hasAppliedAt ? 'applied_at' : 'NULL::timestamptz AS applied_at'}
       FROM ${ledgerTable(schema)} ORDER BY created_at, id`,
  )
  return rows.map((row) => ({
    id: row.id,
    hash: row.hash,
    createdAt: Number(row.created_at),
    appliedAt: row.applied_at,
  }))
}
