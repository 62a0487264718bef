export {
  DEV_DATABASE,
  devAdminUrl,
  type Env,
  openAdminDatabase,
  servicePassword,
  serviceUrl,
} from './admin-database.js'
export { bootstrapServices, renderBootstrapSql } from './bootstrap.js'
export { migrationsRoundTrip } from './migrations-roundtrip.js'
export { discoverServices, repoRoot, requireService, type ServiceInfo, UsageError } from './repo.js'
export { prepareServiceTemplate } from './test-databases.js'
