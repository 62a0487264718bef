export {
  connectClient,
  DatabaseUnavailableError,
  isTransientConnectionError,
  type RetryOptions,
  withRetry,
} from './connect.js'
export { describeTarget, parseConnectionTarget, redactUrl } from './connection-target.js'
export { compareWithLedger, type MigrationState, type MigrationStatus } from './migrations/compare.js'
export { MigrationError, MigrationErrorCode } from './migrations/errors.js'
export {
  type MigrationFile,
  readMigrationFolder,
  STATEMENT_BREAKPOINT,
  splitStatements,
} from './migrations/folder.js'
export { LEDGER_TABLE, type LedgerRow, quoteIdent, readLedger } from './migrations/ledger.js'
export { consoleLogger, type MigrationLogger, silentLogger } from './migrations/logger.js'
export {
  type AppliedMigration,
  formatMs,
  type MigrateOptions,
  type MigrateResult,
  migrate,
} from './migrations/migrate.js'
export { migrationsAppliedCheck } from './migrations/readiness.js'
export { type StatusEntry, type StatusOptions, type StatusReport, status } from './migrations/status.js'
export {
  createServiceDatabase,
  type ServiceDatabase,
  type ServiceDatabaseOptions,
  waitForDatabase,
} from './pool.js'
