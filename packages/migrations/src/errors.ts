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
