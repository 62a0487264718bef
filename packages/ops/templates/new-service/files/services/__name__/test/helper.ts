// Builds the __name__ app exactly as production does, on a database of its own cloned
// from the migrated template, connected as the runtime role __name___app (DML only).
import { createScratchDatabase } from '@app/db'
import { runtimeUrl } from '@app/migrations/authoring'
import { sql } from 'drizzle-orm'
import { afterAll, inject } from 'vitest'
import { type __Name__App, buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

export async function buildTestApp(env: Record<string, string> = {}): Promise<__Name__App> {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, {
    prefix: `${run.prefix}___name__`,
    template: run.prepared.template,
  })
  afterAll(() => database.drop())
  const config = loadConfig({
    DATABASE_URL: runtimeUrl(database.url, { name: '__name__' }, {}),
    LOG_LEVEL: 'silent',
    ...env,
  })
  const app = await buildApp(config, { logger: false })
  await app.ready()
  app.lifecycle.markReady()
  afterAll(() => app.close())
  return app
}

/** Rows in one of __name__'s tables, read from the database rather than the API. */
export async function countRows(app: __Name__App, table: 'items'): Promise<number> {
  const result = await app.db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM ${sql.identifier('__name__')}.${sql.identifier(table)}`,
  )
  return result.rows[0]!.n
}
