// Alembic's downgrade for drizzle-kit folders: applies `<tag>.down.sql` files newest
// first, each in its own transaction under the same advisory lock as migrate(),
// and deletes the migration's ledger row in that transaction. A down whose first
// line is `-- migrate: no-transaction` (DROP INDEX CONCURRENTLY, say) runs
// statement by statement under the session-level lock, like such a migration, and
// its ledger row goes once every statement has succeeded; until then the migration
// stays applied, and the down is run again from its first statement next time.
//
// Everything that can be checked without touching the database is checked first
// (every down exists, no down drops the schema or touches the ledger, every
// migration to undo is the file that was applied), so a refused rollback changes
// nothing. Under the lock, each migration is verified to still be the newest
// applied one, so a concurrent migrate or rollback can't make it undo the wrong one.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import { excerpt, MigrationError, MigrationErrorCode, statementFailed } from './errors.js'
import { type MigrationFile, readMigrationFolder, runsWithoutTransaction, splitStatements } from './folder.js'
import { assertSchemaName, type LedgerRow, ledgerTable, quoteIdent, readLedger } from './ledger.js'
import { type MigrationLogger, silentLogger } from './logger.js'
import { formatMs } from './migrate.js'
import { runStatementByStatement } from './no-transaction.js'
import { withSchemaSessionLock } from './schema-session.js'
import { inSchemaTransaction, type LockTimeoutOptions, retryOnLockTimeout } from './schema-transaction.js'
import { type ConnectionOptions, withConnection } from './session.js'
import { dropsSchema, touchesLedger } from './sql-guards.js'

export interface RollbackOptions extends ConnectionOptions, LockTimeoutOptions {
  schema: string
  migrationsFolder: string
  /** How many of the newest applied migrations to undo. */
  steps: number
  logger?: MigrationLogger
}

export interface RolledBackMigration {
  name: string
  durationMs: number
}

export interface RollbackResult {
  schema: string
  /** Newest first. */
  rolledBack: RolledBackMigration[]
  /** Migrations still recorded in the ledger afterwards. */
  stillApplied: number
  durationMs: number
}

interface RollbackStep {
  file: MigrationFile
  row: LedgerRow
  downName: string
  statements: string[]
  /** False when the down's first line is `-- migrate: no-transaction`. */
  transactional: boolean
}

export async function rollback(options: RollbackOptions): Promise<RollbackResult> {
  const { schema, migrationsFolder, steps } = options
  const logger = options.logger ?? silentLogger
  assertSchemaName(schema)
  if (!Number.isInteger(steps) || steps < 1) {
    throw new MigrationError(
      MigrationErrorCode.RollbackInvalid,
      `steps must be a positive whole number, got ${steps}`,
    )
  }
  const started = performance.now()
  const files = readMigrationFolder(migrationsFolder)

  return withConnection(options, `${schema}-rollback`, async (client) => {
    const rows = await readLedger(client, schema)
    const plan = planRollback(schema, migrationsFolder, files, rows, steps)
    const rolledBack: RolledBackMigration[] = []
    for (const step of plan) {
      const durationMs = step.transactional
        ? await retryOnLockTimeout(
            client,
            { schema, name: step.downName, file: step.file.downPath },
            { ...options, logger },
            () => rollbackOne(client, schema, step, options),
          )
        : await rollbackWithoutTransaction(client, schema, step, { ...options, logger })
      rolledBack.push({ name: step.file.name, durationMs })
      logger.info(
        { schema, migration: step.file.name, durationMs },
        `${schema}: rolled back ${step.file.name} in ${formatMs(durationMs)}`,
      )
    }
    const durationMs = performance.now() - started
    const stillApplied = rows.length - rolledBack.length
    logger.info(
      { schema, rolledBack: rolledBack.length, stillApplied, durationMs },
      `${schema}: ${rolledBack.length} rolled back, ${stillApplied} still applied, ${formatMs(durationMs)}`,
    )
    return { schema, rolledBack, stillApplied, durationMs }
  })
}

/** The newest `steps` applied migrations with their downs, or an error before anything is touched. */
function planRollback(
  schema: string,
  migrationsFolder: string,
  files: MigrationFile[],
  rows: LedgerRow[],
  steps: number,
): RollbackStep[] {
  if (rows.length < steps) {
    throw new MigrationError(
      MigrationErrorCode.RollbackInvalid,
      `${schema}: cannot roll back ${steps} migration(s): only ${rows.length} applied. Nothing was rolled back.`,
    )
  }
  const newestFirst = rows.slice(-steps).reverse()
  const targets = newestFirst.map((row) => {
    const file = files.find((f) => f.when === row.createdAt)
    if (!file) {
      throw new MigrationError(
        MigrationErrorCode.RollbackInvalid,
        `${schema}: the newest applied migration (journal timestamp ${row.createdAt}) is not in ${migrationsFolder}, so its down is unknown (applied by newer code?). Nothing was rolled back.`,
      )
    }
    if (file.hash !== row.hash) {
      throw new MigrationError(
        MigrationErrorCode.HashMismatch,
        `${schema}: ${file.name} changed after being applied (its hash differs from the ledger), so its down may not match what ran. Restore the applied version first. Nothing was rolled back.`,
        { file: file.path },
      )
    }
    return { file, row }
  })

  const missing = targets.filter(({ file }) => !existsSync(file.downPath))
  if (missing.length > 0) {
    const names = missing.map(({ file }) => file.downPath).join(', ')
    throw new MigrationError(
      MigrationErrorCode.DownMissing,
      `${schema}: missing down migration ${names} (a custom migration needs a hand-written down). Nothing was rolled back.`,
      { file: missing[0]!.file.downPath },
    )
  }

  return targets.map(({ file, row }) => {
    const downName = path.basename(file.downPath)
    const downSql = readFileSync(file.downPath, 'utf8')
    const statements = splitStatements(downSql)
    for (const statement of statements) {
      const problem = dropsSchema(statement, schema)
        ? `drops the schema "${schema}"`
        : touchesLedger(statement)
          ? 'touches the migration ledger'
          : null
      if (problem) {
        throw new MigrationError(
          MigrationErrorCode.RollbackInvalid,
          `${schema}: ${downName} ${problem}; a rollback never removes the schema or the ledger. Remove that statement:\n  ${excerpt(statement)}\nNothing was rolled back.`,
          { file: file.downPath, statement },
        )
      }
    }
    return { file, row, downName, statements, transactional: !runsWithoutTransaction(downSql) }
  })
}

/** Under the lock: is `step` still the newest applied migration (no concurrent migrate or rollback)? */
async function assertStillNewest(client: pg.ClientBase, schema: string, step: RollbackStep): Promise<void> {
  const { rows } = await client.query<{ id: number; hash: string }>(
    `SELECT id, hash FROM ${ledgerTable(schema)} ORDER BY created_at DESC, id DESC LIMIT 1`,
  )
  const newest = rows[0]
  if (!newest || newest.id !== step.row.id || newest.hash !== step.row.hash) {
    throw new MigrationError(
      MigrationErrorCode.RollbackInvalid,
      `${schema}: ${step.file.name} is no longer the newest applied migration (another migrate or rollback ran meanwhile); stopped before undoing it`,
      { file: step.file.path },
    )
  }
}

const stillApplied = (step: RollbackStep) =>
  `${step.file.name} stays applied; migrations rolled back before it stay rolled back.`

async function rollbackOne(
  client: pg.ClientBase,
  schema: string,
  step: RollbackStep,
  options: LockTimeoutOptions,
): Promise<number> {
  const started = performance.now()
  await inSchemaTransaction(client, schema, options, async () => {
    await assertStillNewest(client, schema, step)
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`)
    for (const [index, statement] of step.statements.entries()) {
      try {
        await client.query(statement)
      } catch (error) {
        throw statementFailed({
          schema,
          fileName: step.downName,
          filePath: step.file.downPath,
          statement,
          index,
          count: step.statements.length,
          transactional: true,
          error,
          outcome: stillApplied(step),
        })
      }
    }
    await client.query(`DELETE FROM ${ledgerTable(schema)} WHERE id = $1`, [step.row.id])
  })
  return performance.now() - started
}

/** A down marked `-- migrate: no-transaction`: statement by statement, then the ledger row. */
async function rollbackWithoutTransaction(
  client: pg.ClientBase,
  schema: string,
  step: RollbackStep,
  options: LockTimeoutOptions & { logger: MigrationLogger },
): Promise<number> {
  const started = performance.now()
  await withSchemaSessionLock(
    client,
    schema,
    { name: step.downName, path: step.file.downPath },
    options,
    async () => {
      await assertStillNewest(client, schema, step)
      await runStatementByStatement(
        client,
        {
          schema,
          fileName: step.downName,
          filePath: step.file.downPath,
          statements: step.statements,
          outcome: (index) =>
            index === 0
              ? stillApplied(step)
              : `${stillApplied(step)} Statements 1 to ${index} of ${step.downName} ran and stay (it has no transaction to roll back); the next rollback runs it again from its first statement.`,
        },
        options,
      )
      await client.query(`DELETE FROM ${ledgerTable(schema)} WHERE id = $1`, [step.row.id])
    },
  )
  return performance.now() - started
}
