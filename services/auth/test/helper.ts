// Builds the auth app exactly as production does, on a database of its own cloned
// from the migrated template, connected as the auth role.
import { createTestDatabase } from '@app/db/testing'
import { serviceUrl } from '@app/ops'
import { afterAll, inject } from 'vitest'
import { type AuthApp, buildApp } from '../src/app.js'
import { type AuthConfig, loadConfig } from '../src/config.js'

export interface TestApp {
  app: AuthApp
  config: AuthConfig
  /** Superuser URL of this test's database, for assertions on what it holds. */
  adminUrl: string
}

export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const run = inject('testRun')
  const database = await createTestDatabase(run.adminUrl, {
    prefix: `${run.prefix}_auth`,
    template: run.prepared.template,
  })
  const config = loadConfig({
    DATABASE_URL: serviceUrl(database.url, { name: 'auth', schema: 'auth' }, {}),
    LOG_LEVEL: 'silent',
    ...env,
  })
  const app = await buildApp(config, { logger: false })
  await app.ready()
  app.lifecycle.markReady()
  afterAll(async () => {
    await app.close()
    await database.drop()
  })
  return { app, config, adminUrl: database.url }
}
