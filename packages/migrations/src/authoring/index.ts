// Writing and checking migrations, and setting up the roles and schema a service's
// migrations run as: what `make add-migration`, `make check`, `make bootstrap` and
// the test setups use. Tooling only (drizzle-kit, tsx): never bundled into a service.
export {
  type AddMigrationOptions,
  addMigration,
  customMigrationTemplate,
  slugify,
} from './add-migration.js'
export {
  type BootstrapResult,
  type BootstrapVariables,
  bootstrapServices,
  bootstrapSqlPath,
  bootstrapVariables,
  renderBootstrapSql,
} from './bootstrap.js'
export { type CheckOptions, runCheck } from './check.js'
export {
  changesWithoutRewrite,
  parseType,
  type RenameAsDropAndAdd,
  renamesAsDropAndAdd,
  type SqlType,
  typeChangesWithoutRewrite,
} from './destructive-changes.js'
export {
  type DownPlan,
  type DownReport,
  downPath,
  formatDownFile,
  planDown,
  writeDowns,
} from './down-migrations.js'
export { expandContractSteps } from './expand-contract.js'
export {
  type IsolationOptions,
  type IsolationRule,
  type IsolationViolation,
  lintStatement,
  lintStatements,
} from './isolation-lint.js'
export { type LiveDrift, liveDrift } from './live-drift.js'
export {
  type FolderLint,
  isolationProblems,
  type LintProblem,
  lintMigrationFolder,
  safetyProblems,
} from './migration-lint.js'
export {
  formatSafetyFindings,
  migrationSafety,
  type SafetyFinding,
  type SafetyOptions,
} from './migration-safety.js'
export { type ModelDrift, modelDrift, modelSnapshot } from './model-drift.js'
export {
  type Env,
  ownerUrl,
  passwordVariable,
  rolePassword,
  roleUrl,
  runtimeUrl,
  type ServiceRoles,
  serviceConnections,
  serviceRoles,
  statementTimeout,
} from './roles.js'
export {
  diffSnapshots,
  emptySnapshot,
  journalEntries,
  lastSnapshot,
  readSnapshot,
  recordedRenames,
  reverseDiff,
  type Snapshot,
  type SnapshotPair,
  snapshotPairs,
  snapshotPath,
} from './snapshots.js'
export { POSTGRES_VERSION, runSquawk, type SquawkFinding } from './squawk.js'
export { SQUAWK_EXCLUDED, SQUAWK_RULES, type SquawkLevel, squawkRule } from './squawk-rules.js'
export { type TransactionModeProblem, transactionModeProblems } from './transaction-mode-lint.js'
export { discoverServices, repoRoot, requireService, type ServiceInfo, UsageError } from './workspace.js'
