// For tests and benchmarks of migrations: migrations folders in drizzle-kit's format
// written on the fly (1, 100, 1000 migrations, broken folders), and a collector of
// what a command prints.
export { type MigrationSpec, writeMigrationsFolder } from './migration-fixtures.js'
export { output } from './output.js'
