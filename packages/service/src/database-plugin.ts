// A service's pool and Drizzle instance as a Fastify plugin: created when the app
// is built, closed when it closes, an idle connection's loss logged (the pool
// replaces it). Each service declares the types of `app.db` / `app.database` for
// its own schema (see its plugins/db.ts).
import { createServiceDatabase } from '@app/db'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface DatabasePluginOptions {
  url: string
  poolMax: number
  /** Named prepared statements; false behind a pooler that cannot carry them (DB_PREPARED_STATEMENTS). */
  preparedStatements: boolean
}

export function databasePlugin<TSchema extends Record<string, unknown>>(service: string, schema: TSchema) {
  return fp(
    async (app: FastifyInstance, options: DatabasePluginOptions) => {
      const database = createServiceDatabase({
        url: options.url,
        applicationName: service,
        schema,
        max: options.poolMax,
        preparedStatements: options.preparedStatements,
        onIdleError: (error) =>
          app.log.warn({ err: error }, 'idle database connection lost; the pool replaces it'),
      })
      app.decorate('database', database)
      app.decorate('db', database.db)
      app.addHook('onClose', () => database.close())
    },
    { name: 'db' },
  )
}
