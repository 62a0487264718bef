// buildApp(config) builds the auth service's Fastify instance and never listens:
// tests inject into exactly what production serves.
import { migrationsAppliedCheck } from '@app/db'
import { createServiceApp } from '@app/http'
import type { FastifyServerOptions } from 'fastify'
import type { AuthConfig } from './config.js'
import { migrations } from './db/migrations.js'
import { dbPlugin } from './plugins/db.js'

export async function buildApp(
  config: AuthConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
) {
  let migrationsApplied: (() => Promise<boolean>) | undefined
  const app = await createServiceApp({
    name: 'auth',
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    logRequests: config.logRequests,
    logger: options.logger,
    docs: {
      title: 'auth',
      version: '1.0.0',
      description: 'Users, login (OAuth2 password flow) and the public keys that verify its tokens.',
      tags: [{ name: 'health', description: 'Liveness and readiness probes' }],
    },
    readiness: [
      { name: 'database', check: () => app.database.ping() },
      { name: 'migrations', check: () => migrationsApplied!() },
    ],
  })
  await app.register(dbPlugin, {
    url: config.databaseUrl,
    poolMax: config.dbPoolMax,
    statementTimeoutMs: config.dbStatementTimeoutMs,
  })
  migrationsApplied = migrationsAppliedCheck({
    pool: app.database.pool,
    schema: migrations.schema,
    migrationsFolder: migrations.folder,
  })
  return app
}

export type AuthApp = Awaited<ReturnType<typeof buildApp>>
