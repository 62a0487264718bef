// Migrations (and downs) whose first line is `-- migrate: no-transaction`: for the
// statements PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY,
// REINDEX CONCURRENTLY, ...). Each statement runs on its own, under the schema's
// session-level lock on a direct connection (schema-session.ts), with the same
// lock_timeout and retries as a transactional step, per statement. The ledger row
// is written (or, for a down, deleted) only once every statement has succeeded.
//
// A crash part-way leaves the statements before it applied and the file out of the
// ledger, so the next run starts the file again from its first statement. That is
// safe because such files are written to run twice (the authoring lint insists on
// IF NOT EXISTS / IF EXISTS, via squawk's prefer-robust-stmts), and because the
// INVALID index an interrupted concurrent build leaves is dropped and built again
// (invalid-index.ts) rather than skipped by IF NOT EXISTS.
import type pg from 'pg'
import { MigrationError, MigrationErrorCode, statementFailed } from './errors.js'
import type { MigrationFile } from './folder.js'
import { buildsIndexConcurrently, dropInvalidLeftovers } from './invalid-index.js'
import { ledgerTable } from './ledger.js'
import type { MigrationLogger } from './logger.js'
import { withSchemaSessionLock } from './schema-session.js'
import { isLockTimeout, type LockTimeoutOptions, retryOnLockTimeout } from './schema-transaction.js'

type Options = LockTimeoutOptions & { logger: MigrationLogger }

export interface StatementByStatement {
  schema: string
  /** As users see it: `0004_x.sql`, `0004_x.down.sql`. */
  fileName: string
  filePath?: string
  statements: string[]
  /** Statements the runner skips (the first migration's CREATE SCHEMA). */
  skip?: (statement: string) => boolean
  /** What stays applied when the statement at `index` fails for good, and what to do. */
  outcome: (index: number) => string
}

/** Runs each statement on its own, retrying the one that hits lock_timeout; throws naming the first that fails. */
export async function runStatementByStatement(
  client: pg.ClientBase,
  run: StatementByStatement,
  options: Options,
): Promise<void> {
  const { schema, fileName, statements } = run
  for (const [index, statement] of statements.entries()) {
    if (run.skip?.(statement)) continue
    const concurrentBuild = buildsIndexConcurrently(statement)
    try {
      await retryOnLockTimeout(
        client,
        {
          schema,
          name: `${fileName} (statement ${index + 1} of ${statements.length})`,
          file: run.filePath,
          outcome: run.outcome(index),
          waitsForSnapshots: concurrentBuild,
        },
        options,
        async () => {
          await dropInvalidLeftovers(client, schema, statement, { logger: options.logger, file: fileName })
          await client.query(statement)
        },
      )
    } catch (error) {
      // A failed concurrent build leaves an INVALID index that every write would
      // still maintain: drop it now rather than at the next run.
      if (concurrentBuild) {
        await dropInvalidLeftovers(client, schema, statement, {
          logger: options.logger,
          file: fileName,
        }).catch(() => {})
      }
      if (error instanceof MigrationError || isLockTimeout(error)) throw error
      throw statementFailed({
        schema,
        fileName,
        filePath: run.filePath,
        statement,
        index,
        count: statements.length,
        transactional: false,
        error,
        outcome: run.outcome(index),
      })
    }
  }
}

/** What stays when statement `index` of a migration without a transaction fails. */
function migrationOutcome(file: MigrationFile, index: number): string {
  return index === 0
    ? `Nothing of ${file.name} was applied; earlier migrations stay applied.`
    : `Statements 1 to ${index} of ${file.name} ran and stay (it has no transaction to roll back); it is not in the ledger, so the next migrate runs it again from its first statement, which its statements are written for.`
}

/** Applies one migration marked `-- migrate: no-transaction`; null when another runner already did. */
export async function applyWithoutTransaction(
  client: pg.ClientBase,
  schema: string,
  file: MigrationFile,
  options: Options & { skip: (statement: string) => boolean },
): Promise<number | null> {
  const started = performance.now()
  return withSchemaSessionLock(client, schema, file, options, async () => {
    const { rows } = await client.query<{ hash: string }>(
      `SELECT hash FROM ${ledgerTable(schema)} WHERE created_at = $1`,
      [file.when],
    )
    if (rows.length > 0) {
      if (rows[0]!.hash === file.hash) return null
      throw new MigrationError(
        MigrationErrorCode.HashMismatch,
        `${schema}: ${file.name} was applied concurrently from a different file version (hash differs)`,
        { file: file.path },
      )
    }
    options.logger.info(
      { schema, migration: file.name },
      `${schema}: applying ${file.name} without a transaction, statement by statement`,
    )
    await runStatementByStatement(
      client,
      {
        schema,
        fileName: file.name,
        filePath: file.path,
        statements: file.statements,
        skip: options.skip,
        outcome: (index) => migrationOutcome(file, index),
      },
      options,
    )
    await client.query(`INSERT INTO ${ledgerTable(schema)} (hash, created_at) VALUES ($1, $2)`, [
      file.hash,
      file.when,
    ])
    return performance.now() - started
  })
}
