export {
  connectClient,
  DatabaseUnavailableError,
  isTransientConnectionError,
  type RetryOptions,
  withRetry,
} from './connect.js'
export { describeTarget, parseConnectionTarget, redactUrl } from './connection-target.js'
export {
  type CatalogColumn,
  type CatalogDifference,
  type CatalogObject,
  type CatalogSequence,
  type CatalogTable,
  catalogObjects,
  diffCatalogs,
  formatCatalogDifferences,
  type ReadCatalogOptions,
  readCatalog,
  type SchemaCatalog,
} from './migrations/catalog.js'
export { compareWithLedger, type MigrationState, type MigrationStatus } from './migrations/compare.js'
export { MigrationError, MigrationErrorCode } from './migrations/errors.js'
export {
  findMigrationsFolder,
  hashMigration,
  type Journal,
  type JournalEntry,
  journalPath,
  type MigrationFile,
  readJournal,
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
export {
  type RollbackOptions,
  type RollbackResult,
  type RolledBackMigration,
  rollback,
} from './migrations/rollback.js'
export {
  LOCK_TIMEOUT_DEFAULTS,
  type LockHolder,
  type LockTimeoutOptions,
  lockHolders,
} from './migrations/schema-transaction.js'
export {
  dropsSchema,
  type IsolationOptions,
  type IsolationViolation,
  lintStatement,
  lintStatements,
  type SqlToken,
  tokenize,
  touchesLedger,
} from './migrations/sql-lint.js'
export { type StatusEntry, type StatusOptions, type StatusReport, status } from './migrations/status.js'
export {
  createServiceDatabase,
  type ServiceDatabase,
  type ServiceDatabaseOptions,
  waitForDatabase,
} from './pool.js'
