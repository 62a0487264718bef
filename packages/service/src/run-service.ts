// A service process: read config (bad config: exit 1 naming the variable), build
// the app, listen (alive, not ready), then either apply the migrations with the
// shared runner as the schema's owner (MIGRATE_ON_START, the default; retrying
// while the database is unreachable) or wait until a pre-deploy job has applied
// them, then mark ready. A failed migration exits non-zero before any API request
// is served.
//
// SIGTERM or SIGINT: /readyz answers 503 at once, requests are still served for
// SHUTDOWN_DRAIN_MS (a load balancer or Kubernetes keeps routing to the instance
// until its next probe fails), then the server stops accepting, in-flight requests
// finish, the pool closes (the db plugin's onClose) and the process exits 0.
import { migrate } from '@app/migrations'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { codeCacheReport } from './code-cache.js'
import type { ServiceConfig } from './config.js'
import { schemaCodeCounts } from './schema-code.js'

export interface ServiceDefinition<C extends ServiceConfig> {
  name: string
  loadConfig(env: Record<string, string | undefined>): C
  buildApp(config: C): Promise<FastifyInstance>
  migrations: { schema: string; folder: string }
  /** How long in-flight requests may take to finish once the drain is over. Default 10 s. */
  shutdownDelayMs?: number
}

export async function runService<C extends ServiceConfig>(
  service: ServiceDefinition<C>,
  env: Record<string, string | undefined> = process.env,
): Promise<FastifyInstance | undefined> {
  let config: C
  try {
    config = service.loadConfig(env)
  } catch (error) {
    process.stderr.write(`${service.name}: ${(error as Error).message}\n`)
    process.exitCode = 1
    return undefined
  }

  const app = await service.buildApp(config)
  const finishTraining = codeCacheReport()?.finishTraining
  if (finishTraining) {
    await trainCodeCache(app, finishTraining)
    return undefined
  }
  const finishMs = service.shutdownDelayMs ?? 10_000
  closeWithGrace({ delay: config.shutdownDrainMs + finishMs, logger: app.log }, async ({ signal, err }) => {
    if (err) {
      app.log.error({ err }, `${service.name}: stopping after an unexpected error`)
    } else if (app.lifecycle.state === 'ready' && config.shutdownDrainMs > 0) {
      app.lifecycle.markStopping()
      app.log.info(
        `${service.name}: ${signal} received: /readyz answers 503, requests are served for ${config.shutdownDrainMs} ms more (SHUTDOWN_DRAIN_MS), then in-flight ones finish`,
      )
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
    } else {
      app.log.info(`${service.name}: ${signal} received, finishing in-flight requests`)
    }
    await app.close()
  })

  await app.listen({ port: config.port, host: config.host })
  void app.warmDatabase()
  try {
    if (config.migrateOnStart) {
      const result = await migrate({
        url: config.migrationDatabaseUrl,
        schema: service.migrations.schema,
        migrationsFolder: service.migrations.folder,
        logger: app.log,
        lockTimeoutMs: config.migrationLock.timeoutMs,
        lockRetries: config.migrationLock.retries,
        retry: {
          timeoutMs: config.dbConnectTimeoutMs,
          onRetry: ({ attempt, delayMs, error }) =>
            app.log.warn(
              `${service.name}: database not reachable (${error.message || error.name}), retry ${attempt} in ${delayMs} ms`,
            ),
        },
      })
      app.metrics.recordMigrationRun(result)
    } else {
      await waitUntilMigrated(app, service.name)
    }
  } catch (error) {
    app.log.fatal({ err: error }, `${service.name}: cannot start: ${(error as Error).message}`)
    await app.close()
    process.exit(1)
  }
  if (app.lifecycle.state !== 'starting') return app
  app.lifecycle.markReady()
  // How the bundle was compiled: anything but 'used' means a slower start (about 140 ms
  // of auth's 470 here), e.g. a node version or V8 flags other than the build's.
  // And the route schemas' validators and serializers: loaded from the build's generated
  // code, or generated at this start (schema-code.ts).
  const codeCache = codeCacheReport()?.status
  app.log.info(
    codeCache ? { codeCache, schemaCode: schemaCodeCounts() } : {},
    `${service.name}: ready on http://${config.host}:${config.port} (docs at /docs)`,
  )
  return app
}

/**
 * The build's training start (see code-cache.ts): the app built and ready, its probes
 * answered once in process, so that the functions a start and its first requests run
 * are compiled when the cache is taken. No port, no database.
 */
async function trainCodeCache(app: FastifyInstance, finishTraining: () => void): Promise<void> {
  await app.ready()
  for (const url of ['/healthz', '/readyz']) await app.inject({ method: 'GET', url })
  finishTraining()
  await app.close()
}

/**
 * MIGRATE_ON_START=false: the migrations are a deploy step of their own (the
 * image's `node dist/migrate.js`, e.g. a Kubernetes Job). Until its readiness
 * checks pass (database reachable, every migration of this build applied) the
 * instance stays unready, saying every 10 s what it waits for.
 */
async function waitUntilMigrated(app: FastifyInstance, name: string): Promise<void> {
  let lastSaid = 0
  for (let delayMs = 100; app.lifecycle.state === 'starting'; delayMs = Math.min(delayMs * 2, 2_000)) {
    const checks = await app.lifecycle.runChecks()
    const failing = Object.keys(checks).filter((check) => !checks[check])
    if (failing.length === 0) return
    if (Date.now() - lastSaid >= 10_000) {
      lastSaid = Date.now()
      app.log.warn(
        { failing },
        `${name}: MIGRATE_ON_START=false: waiting for ${failing.join(' and ')} (apply the migrations with dist/migrate.js or make migrate)`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs))
  }
}
