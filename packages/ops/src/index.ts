export { DEV_DATABASE, devAdminUrl, type Env, openAdminDatabase } from './admin-database.js'
export { bootstrapServices, bootstrapVariables, renderBootstrapSql } from './bootstrap.js'
export { migrationsRoundTrip } from './migrations-roundtrip.js'
export { discoverServices, repoRoot, requireService, type ServiceInfo, UsageError } from './repo.js'
export {
  ownerUrl,
  rolePassword,
  roleUrl,
  runtimeUrl,
  type ServiceRoles,
  serviceConnections,
  serviceRoles,
} from './service-roles.js'
export { prepareServiceTemplate } from './test-databases.js'
