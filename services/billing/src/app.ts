// buildApp(config) builds the billing service's Fastify instance and never listens:
// tests inject into exactly what production serves.
import { migrationsAppliedCheck } from '@app/db'
import { createServiceApp } from '@app/http'
import type { FastifyServerOptions } from 'fastify'
import type { BillingConfig } from './config.js'
import { migrations } from './db/migrations.js'
import { dbPlugin } from './plugins/db.js'

export async function buildApp(
  config: BillingConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
) {
  let migrationsApplied: (() => Promise<boolean>) | undefined
  const app = await createServiceApp({
    name: 'billing',
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    logRequests: config.logRequests,
    logger: options.logger,
    docs: {
      title: 'billing',
      version: '1.0.0',
      description: 'Subscription plans and the users subscribed to them.',
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

export type BillingApp = Awaited<ReturnType<typeof buildApp>>
