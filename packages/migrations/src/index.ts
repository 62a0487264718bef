// Migrating one schema at runtime: what a service and its one-shot migration entry
// need (no drizzle-kit). Authoring (add-migration, check, lints, down SQL, bootstrap)
// is in ./authoring, test helpers in ./testing.
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
} from './catalog.js'
export { compareWithLedger, type MigrationState, type MigrationStatus } from './compare.js'
export { MigrationError, MigrationErrorCode } from './errors.js'
export {
  findMigrationsFolder,
  hashMigration,
  type Journal,
  type JournalEntry,
  journalPath,
  type MigrationFile,
  misplacedNoTransactionMarker,
  NO_TRANSACTION_MARKER,
  readJournal,
  readMigrationFolder,
  runsWithoutTransaction,
  STATEMENT_BREAKPOINT,
  splitStatements,
} from './folder.js'
export { concurrentIndexName } from './invalid-index.js'
export { LEDGER_TABLE, type LedgerRow, quoteIdent, readLedger } from './ledger.js'
export { consoleLogger, type MigrationLogger, silentLogger } from './logger.js'
export {
  type AppliedMigration,
  formatMs,
  type MigrateOptions,
  type MigrateResult,
  migrate,
} from './migrate.js'
export { migrationsAppliedCheck, migrationsLedgerCount } from './readiness.js'
export {
  type RollbackOptions,
  type RollbackResult,
  type RolledBackMigration,
  rollback,
} from './rollback.js'
export { assertDirectConnection } from './schema-session.js'
export {
  LOCK_TIMEOUT_DEFAULTS,
  type LockHolder,
  type LockTimeoutOptions,
  lockHolders,
} from './schema-transaction.js'
export { dropsSchema, type SqlToken, tokenize, touchesLedger } from './sql-guards.js'
export { type StatusEntry, type StatusOptions, type StatusReport, status } from './status.js'
