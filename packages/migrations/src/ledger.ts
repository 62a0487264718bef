// The ledger: `<schema>.__drizzle_migrations`, drizzle's own table shape (id, hash,
// created_at = the journal's `when`) inside the service's schema, plus an
// `applied_at` column with a default, so drizzle-kit's inserts still work and
// `status` can say when each migration ran.
import { quoteIdent } from '@app/db'
import type pg from 'pg'
import { MigrationError, MigrationErrorCode } from './errors.js'
import { inSchemaTransaction, type LockTimeoutOptions } from './schema-transaction.js'

export const LEDGER_TABLE = '__drizzle_migrations'

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new MigrationError(
      MigrationErrorCode.SchemaInvalid,
      `schema name "${schema}" must be lower case letters, digits and underscores, starting with a letter`,
    )
  }
}

export { quoteIdent }

export function ledgerTable(schema: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(LEDGER_TABLE)}`
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
  options: LockTimeoutOptions = {},
): Promise<{ createdSchema: boolean }> {
  const before = await inspectLedger(client, schema)
  if (before.ledgerExists && before.hasAppliedAt) return { createdSchema: false }

  return inSchemaTransaction(client, schema, options, async () => {
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
    if (!state.ledgerExists) {
      await client.query(`CREATE TABLE ${ledgerTable(schema)} (
        id SERIAL PRIMARY KEY,
        hash text NOT NULL,
        created_at bigint,
        applied_at timestamptz DEFAULT now()
      )`)
      await keepLedgerOwnerWritable(client, schema)
    } else if (!state.hasAppliedAt) {
      // A ledger that drizzle-kit created: add the column without backfilling a
      // wrong time into the rows that are already there.
      await client.query(`ALTER TABLE ${ledgerTable(schema)} ADD COLUMN IF NOT EXISTS applied_at timestamptz`)
      await client.query(`ALTER TABLE ${ledgerTable(schema)} ALTER COLUMN applied_at SET DEFAULT now()`)
    }
    return { createdSchema: !state.schemaExists }
  })
}

/**
 * The schema's default privileges (set by the bootstrap) give the service's runtime
 * role DML on every new table, the ledger included. Only the owner, which runs the
 * migrations, may write the ledger: every other grantee keeps at most SELECT (the
 * runtime role's readiness check reads it).
 */
async function keepLedgerOwnerWritable(client: pg.ClientBase, schema: string): Promise<void> {
  const { rows } = await client.query<{ statement: string }>(
    `SELECT format('REVOKE %s ON %s %s FROM %s',
                   string_agg(DISTINCT a.privilege_type, ', '),
                   CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                   c.oid::regclass,
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END) AS statement
       FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid IN (to_regclass($1), to_regclass($2))
        AND a.grantee <> c.relowner
        AND a.privilege_type <> 'SELECT'
      GROUP BY c.oid, c.relkind, a.grantee`,
    [ledgerTable(schema), `${quoteIdent(schema)}.${quoteIdent(`${LEDGER_TABLE}_id_seq`)}`],
  )
  for (const { statement } of rows) await client.query(statement)
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
