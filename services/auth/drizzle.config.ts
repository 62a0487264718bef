// drizzle-kit for the auth service only: its models, its migrations folder, and a
// ledger inside its own schema. (drizzle-kit generate ignores schemaFilter: what
// it generates depends on what src/db/schema.ts exports, which is only auth's.)
// The verbs that talk to a database (migrate, pull, studio) connect as the schema's
// owner from MIGRATION_DATABASE_URL (else DATABASE_URL); generate needs none.
import { defineConfig } from 'drizzle-kit'

const url = process.env.MIGRATION_DATABASE_URL || process.env.DATABASE_URL

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
  schemaFilter: ['auth'],
  migrations: { schema: 'auth', table: '__drizzle_migrations' },
  ...(url ? { dbCredentials: { url } } : {}),
})
