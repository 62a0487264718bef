// The one-shot migration entry of a service's image and bundle (`node
// dist/migrate.js`): applies the pending migrations as the schema's owner and exits
// 0 at head, or 1 naming what failed. For a pre-deploy step (a Kubernetes Job, a
// release command) run before replicas with MIGRATE_ON_START=false roll out. It
// reads only the migration variables, so it needs none of the service's secrets.
// Imported from `@app/service/migrate-entry`, apart from the HTTP kit: the bundle it
// ends up in carries no Fastify.
import { migrate } from '@app/migrations'
import pino from 'pino'
import { type Static, Type } from 'typebox'
import { loadEnv, serviceEnv } from './config.js'

const shared = serviceEnv({ port: 1 })

const MigrationEnv = Type.Object({
  MIGRATION_DATABASE_URL: Type.Optional(shared.MIGRATION_DATABASE_URL),
  DATABASE_URL: Type.Optional(
    Type.String({ pattern: '^postgres(ql)?://', description: 'used when MIGRATION_DATABASE_URL is not set' }),
  ),
  LOG_LEVEL: shared.LOG_LEVEL,
  DB_CONNECT_TIMEOUT_MS: shared.DB_CONNECT_TIMEOUT_MS,
  MIGRATION_LOCK_TIMEOUT_MS: shared.MIGRATION_LOCK_TIMEOUT_MS,
  MIGRATION_LOCK_RETRIES: shared.MIGRATION_LOCK_RETRIES,
})

export type MigrationEnv = Static<typeof MigrationEnv>

/** Resolves to the process exit code. */
export async function runMigrations(
  service: { name: string; migrations: { schema: string; folder: string } },
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let values: MigrationEnv
  try {
    values = loadEnv(MigrationEnv, env)
  } catch (error) {
    process.stderr.write(`${service.name} migrate: ${(error as Error).message}\n`)
    return 1
  }
  const url = values.MIGRATION_DATABASE_URL ?? values.DATABASE_URL
  if (!url) {
    process.stderr.write(
      `${service.name} migrate: invalid configuration:\n  MIGRATION_DATABASE_URL is required: the schema owner's connection (role ${service.migrations.schema}), postgres://<role>:<password>@host:port/database (DATABASE_URL is used when it is not set)\n`,
    )
    return 1
  }
  const log = pino({ name: service.name, level: values.LOG_LEVEL })
  try {
    const result = await migrate({
      url,
      schema: service.migrations.schema,
      migrationsFolder: service.migrations.folder,
      logger: log,
      lockTimeoutMs: values.MIGRATION_LOCK_TIMEOUT_MS,
      lockRetries: values.MIGRATION_LOCK_RETRIES,
      retry: {
        timeoutMs: values.DB_CONNECT_TIMEOUT_MS,
        onRetry: ({ attempt, delayMs, error }) =>
          log.warn(
            `${service.name}: database not reachable (${error.message || error.name}), retry ${attempt} in ${delayMs} ms`,
          ),
      },
    })
    log.info(
      { applied: result.applied.length, total: result.total },
      `${service.name}: at head, ${result.total} migration(s) applied in all`,
    )
    return 0
  } catch (error) {
    log.fatal({ err: error }, `${service.name}: migration failed: ${(error as Error).message}`)
    return 1
  }
}
