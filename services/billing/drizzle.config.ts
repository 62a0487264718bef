// drizzle-kit for the billing service only: its models, its migrations folder, and a
// ledger inside its own schema. (drizzle-kit generate ignores schemaFilter: what
// it generates depends on what src/db/schema.ts exports, which is only billing's.)
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
  schemaFilter: ['billing'],
  migrations: { schema: 'billing', table: '__drizzle_migrations' },
})
