// Builds the billing app exactly as production does, on a database of its own
// cloned from the migrated template (billing and auth schemas), connected as the
// runtime role billing_app (DML only).
import { createScratchDatabase } from '@app/db'
import { runtimeUrl } from '@app/migrations/authoring'
import { sql } from 'drizzle-orm'
import { afterAll, inject } from 'vitest'
import { type BillingApp, buildApp } from '../src/app.js'
import { type BillingConfig, loadConfig } from '../src/config.js'

export interface TestDatabase {
  /** Superuser URL of this test's database. */
  adminUrl: string
  /** The same database as the runtime roles billing_app and auth_app. */
  billingUrl: string
  authUrl: string
}

export async function createDatabase(): Promise<TestDatabase> {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, {
    prefix: `${run.prefix}_billing`,
    template: run.prepared.template,
  })
  afterAll(() => database.drop())
  return {
    adminUrl: database.url,
    billingUrl: runtimeUrl(database.url, { name: 'billing' }, {}),
    authUrl: runtimeUrl(database.url, { name: 'auth' }, {}),
  }
}

export interface TestApp {
  app: BillingApp
  config: BillingConfig
  database: TestDatabase
}

export async function buildTestApp(
  env: Record<string, string> = {},
  database?: TestDatabase,
): Promise<TestApp> {
  const db = database ?? (await createDatabase())
  const config = loadConfig({ DATABASE_URL: db.billingUrl, LOG_LEVEL: 'silent', ...env })
  const app = await buildApp(config, { logger: false })
  await app.ready()
  app.lifecycle.markReady()
  afterAll(() => app.close())
  return { app, config, database: db }
}

/** Rows in one of billing's tables, read from the database rather than the API. */
export async function countRows(
  app: BillingApp,
  table: 'subscriptions' | 'user_subscriptions' | 'idempotency_keys',
): Promise<number> {
  const result = await app.db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM ${sql.identifier('billing')}.${sql.identifier(table)}`,
  )
  return result.rows[0]!.n
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
