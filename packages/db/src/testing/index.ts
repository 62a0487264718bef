// Test databases on a real PostgreSQL: the server TEST_DATABASE_URL names, or an
// embedded one that the test run starts itself. Each test file gets a database of
// its own (optionally cloned from a migrated template), so files run in parallel.
export {
  createTestDatabase,
  dropDatabasesWithPrefix,
  type TestDatabase,
  withDatabase,
  withUser,
} from './databases.js'
export { type TestRun, testRunSetup } from './global-setup.js'
export { type MigrationSpec, writeMigrationsFolder } from './migration-fixtures.js'
export { startTestServer, type TestServer } from './server.js'
