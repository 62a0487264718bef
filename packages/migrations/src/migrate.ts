// Applies a drizzle-kit migrations folder to one schema.
//
// Unlike drizzle's migrate(): the ledger lives in the service's own schema; each
// migration runs in its own transaction under a transaction-scoped advisory lock
// keyed by the schema, and the ledger is read again under that lock, so any number
// of replicas apply each migration exactly once (drizzle-orm issue 874) and it works
// behind a transaction-mode pooler (every setting is SET LOCAL); its statements run
// under a lock_timeout, retried with backoff; applied files are checked against
// their hash; and a never-applied migration older than the newest applied one is an
// error instead of being skipped (drizzle-orm issue 5769). A file whose first line
// is `-- migrate: no-transaction` runs statement by statement under the same lock
// held at session level, over a direct connection (no-transaction.ts).
import type pg from 'pg'
import { compareWithLedger, type MigrationStatus } from './compare.js'
import { MigrationError, MigrationErrorCode, statementFailed } from './errors.js'
import { type MigrationFile, readMigrationFolder } from './folder.js'
import { assertSchemaName, ensureLedger, ledgerTable, quoteIdent, readLedgerRows } from './ledger.js'
import { type MigrationLogger, silentLogger } from './logger.js'
import { applyWithoutTransaction } from './no-transaction.js'
import { inSchemaTransaction, type LockTimeoutOptions, retryOnLockTimeout } from './schema-transaction.js'
import { type ConnectionOptions, withConnection } from './session.js'

export interface MigrateOptions extends ConnectionOptions, LockTimeoutOptions {
  schema: string
  migrationsFolder: string
  logger?: MigrationLogger
}

export interface AppliedMigration {
  name: string
  durationMs: number
}

export interface MigrateResult {
  schema: string
  /** Migrations this call applied (others may have been applied by a concurrent runner). */
  applied: AppliedMigration[]
  /** Migrations in the folder, all of which are now applied. */
  total: number
  durationMs: number
}

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const { schema, migrationsFolder } = options
  const logger = options.logger ?? silentLogger
  assertSchemaName(schema)
  const started = performance.now()
  const files = readMigrationFolder(migrationsFolder)

  return withConnection(options, `${schema}-migrate`, async (client) => {
    await ensureLedger(client, schema, options)
    const comparison = compareWithLedger(files, await readLedgerRows(client, schema))
    assertConsistent(schema, comparison.migrations)
    if (comparison.unknownRows.length > 0) {
      logger.warn(
        { schema, unknownRows: comparison.unknownRows.length },
        `${schema}: the ledger records ${comparison.unknownRows.length} migration(s) that are not in ${migrationsFolder} (applied by newer code, or a file was deleted)`,
      )
    }

    const applied: AppliedMigration[] = []
    for (const { file } of comparison.migrations.filter((m) => m.state === 'pending')) {
      const durationMs = file.transactional
        ? await retryOnLockTimeout(
            client,
            { schema, name: file.name, file: file.path },
            { ...options, logger },
            () => applyOne(client, schema, file, options),
          )
        : await applyWithoutTransaction(client, schema, file, {
            ...options,
            logger,
            skip: (statement) => createsOwnSchema(statement, schema),
          })
      if (durationMs === null) continue
      applied.push({ name: file.name, durationMs })
      logger.info(
        { schema, migration: file.name, durationMs },
        `${schema}: applied ${file.name} in ${formatMs(durationMs)}`,
      )
    }

    const durationMs = performance.now() - started
    logger.info(
      { schema, applied: applied.length, pending: 0, durationMs },
      `${schema}: ${applied.length} applied, 0 pending, ${formatMs(durationMs)}`,
    )
    return { schema, applied, total: files.length, durationMs }
  })
}

function assertConsistent(schema: string, migrations: MigrationStatus[]): void {
  const changed = migrations.filter((m) => m.state === 'changed')
  if (changed.length > 0) {
    const names = changed.map((m) => m.file.name).join(', ')
    throw new MigrationError(
      MigrationErrorCode.HashMismatch,
      `${schema}: ${names} changed after being applied (its hash differs from the ledger). Restore the applied version and put the change in a new migration.`,
      { file: changed[0]!.file.path },
    )
  }
  const late = migrations.filter((m) => m.state === 'out-of-order')
  if (late.length > 0) {
    const names = late.map((m) => m.file.name).join(', ')
    throw new MigrationError(
      MigrationErrorCode.OutOfOrder,
      `${schema}: ${names} was never applied but is older than the newest applied migration; drizzle would skip it silently. Regenerate it after the newest one (usually after merging branches).`,
      { file: late[0]!.file.path },
    )
  }
}

/** Applies one migration in its own transaction; null when another runner already did. */
async function applyOne(
  client: pg.ClientBase,
  schema: string,
  file: MigrationFile,
  options: LockTimeoutOptions,
): Promise<number | null> {
  const started = performance.now()
  const appliedHash = await inSchemaTransaction(client, schema, options, async () => {
    const { rows } = await client.query<{ hash: string }>(
      `SELECT hash FROM ${ledgerTable(schema)} WHERE created_at = $1`,
      [file.when],
    )
    if (rows.length > 0) return rows[0]!.hash
    // Unqualified names in hand-written SQL land in the service's schema, never in public.
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`)
    for (const [index, statement] of file.statements.entries()) {
      if (createsOwnSchema(statement, schema)) continue
      try {
        await client.query(statement)
      } catch (error) {
        throw statementFailed({
          schema,
          fileName: file.name,
          filePath: file.path,
          statement,
          index,
          count: file.statements.length,
          transactional: true,
          error,
          outcome: `Nothing of ${file.name} was applied; earlier migrations stay applied.`,
        })
      }
    }
    await client.query(`INSERT INTO ${ledgerTable(schema)} (hash, created_at) VALUES ($1, $2)`, [
      file.hash,
      file.when,
    ])
    return null
  })
  if (appliedHash === null) return performance.now() - started
  if (appliedHash !== file.hash) {
    throw new MigrationError(
      MigrationErrorCode.HashMismatch,
      `${schema}: ${file.name} was applied concurrently from a different file version (hash differs)`,
      { file: file.path },
    )
  }
  return null
}

/**
 * drizzle-kit starts a schema's first migration with a bare `CREATE SCHEMA "x";`.
 * The runner has already made sure the schema exists (without needing CREATE on the
 * database when it does), so that statement is skipped rather than failing.
 */
export function createsOwnSchema(statement: string, schema: string): boolean {
  // Comment lines before it (a file's `-- migrate: no-transaction` marker) do not count.
  const sql = statement.replace(/^(\s*--[^\n]*\n)+/, '').trim()
  const match = /^CREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)\s*;?$/i.exec(
    sql,
  )
  if (!match) return false
  const raw = match[1]!
  const name = raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw.toLowerCase()
  return name === schema
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`
}
