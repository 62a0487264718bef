// A service process: read config (bad config: exit 1 naming the variable), build
// the app, listen (alive, not ready), apply migrations with the shared runner
// (retrying while the database is unreachable), then mark ready. A failed
// migration exits non-zero before any API request is served. SIGTERM or SIGINT
// stops accepting connections, lets in-flight requests finish, closes the pool
// (the db plugin's onClose) and exits 0.
import { migrate } from '@app/db'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import type { ServiceConfig } from './config.js'

export interface ServiceDefinition<C extends ServiceConfig> {
  name: string
  loadConfig(env: Record<string, string | undefined>): C
  buildApp(config: C): Promise<FastifyInstance>
  migrations: { schema: string; folder: string }
  /** How long to wait for in-flight requests on shutdown. Default 10 s. */
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
  closeWithGrace({ delay: service.shutdownDelayMs ?? 10_000, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, `${service.name}: stopping after an unexpected error`)
    else app.log.info(`${service.name}: ${signal} received, finishing in-flight requests`)
    await app.close()
  })

  await app.listen({ port: config.port, host: config.host })
  try {
    await migrate({
      url: config.databaseUrl,
      schema: service.migrations.schema,
      migrationsFolder: service.migrations.folder,
      logger: app.log,
      retry: {
        timeoutMs: config.dbConnectTimeoutMs,
        onRetry: ({ attempt, delayMs, error }) =>
          app.log.warn(
            `${service.name}: database not reachable (${error.message || error.name}), retry ${attempt} in ${delayMs} ms`,
          ),
      },
    })
  } catch (error) {
    app.log.fatal({ err: error }, `${service.name}: cannot start: ${(error as Error).message}`)
    await app.close()
    process.exit(1)
  }
  app.lifecycle.markReady()
  app.log.info(`${service.name}: ready on http://${config.host}:${config.port} (docs at /docs)`)
  return app
}
