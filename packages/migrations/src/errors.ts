// Every failure of the migration tooling carries a stable code and names the file
// (and, when a statement failed, the statement) so the fix is obvious from the log.

export const MigrationErrorCode = {
  JournalInvalid: 'MIGRATION_JOURNAL_INVALID',
  FileMissing: 'MIGRATION_FILE_MISSING',
  HashMismatch: 'MIGRATION_HASH_MISMATCH',
  OutOfOrder: 'MIGRATION_OUT_OF_ORDER',
  StatementFailed: 'MIGRATION_FAILED',
  SchemaInvalid: 'MIGRATION_SCHEMA_INVALID',
  DownMissing: 'MIGRATION_DOWN_MISSING',
  RollbackInvalid: 'MIGRATION_ROLLBACK_INVALID',
  LockTimeout: 'MIGRATION_LOCK_TIMEOUT',
  NeedsDirectConnection: 'MIGRATION_NEEDS_DIRECT_CONNECTION',
} as const
export type MigrationErrorCode = (typeof MigrationErrorCode)[keyof typeof MigrationErrorCode]

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    readonly details: { file?: string; statement?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'MigrationError'
  }
}

/** First lines of a statement, enough to recognise it in a log. */
export function excerpt(statement: string, maxLength = 300): string {
  const trimmed = statement.trim()
  return trimmed.length > maxLength ? `${trimmed.slice(0, maxLength)}…` : trimmed
}

/** SQLSTATE active_sql_transaction: e.g. CREATE INDEX CONCURRENTLY inside a transaction block. */
const ACTIVE_SQL_TRANSACTION = '25001'

/**
 * A statement of a migration or a down failed: names the file, which statement,
 * PostgreSQL's message (with its detail and hint) and what stays applied.
 */
export function statementFailed(failure: {
  schema: string
  fileName: string
  filePath?: string
  statement: string
  index: number
  count: number
  transactional: boolean
  error: unknown
  /** What stays applied, and what to do. */
  outcome: string
}): MigrationError {
  const pgError = failure.error as { message: string; code?: string; detail?: string; hint?: string }
  const extra = [pgError.detail && `detail: ${pgError.detail}`, pgError.hint && `hint: ${pgError.hint}`]
    .filter(Boolean)
    .join('; ')
  const advice =
    pgError.code !== ACTIVE_SQL_TRANSACTION
      ? ''
      : failure.transactional
        ? `\nPostgreSQL refuses this statement inside a transaction: put it in a migration whose first line is "-- migrate: no-transaction" (README: Working with migrations), written so it can run twice.`
        : `\nIn a file marked "-- migrate: no-transaction" each statement must stand alone between "--> statement-breakpoint" markers: several sent together run as one transaction.`
  return new MigrationError(
    MigrationErrorCode.StatementFailed,
    `${failure.schema}: ${failure.fileName} failed at statement ${failure.index + 1} of ${failure.count}: ${pgError.message}${extra ? ` (${extra})` : ''}\n  ${excerpt(failure.statement)}\n${failure.outcome}${advice}`,
    { file: failure.filePath, statement: failure.statement, cause: failure.error },
  )
}
