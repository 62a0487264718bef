// The service's pool and Drizzle instance, created when the app is built and
// closed when it closes. Repositories receive `app.db`, never `app`.
import { createServiceDatabase, type ServiceDatabase } from '@app/db'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import * as schema from '../db/schema.js'

export type AuthDatabase = ServiceDatabase<typeof schema>

declare module 'fastify' {
  interface FastifyInstance {
    db: AuthDatabase['db']
    database: AuthDatabase
  }
}

export const dbPlugin = fp(
  async (app: FastifyInstance, options: { url: string; poolMax: number; statementTimeoutMs: number }) => {
    const database = createServiceDatabase({
      url: options.url,
      applicationName: 'auth',
      schema,
      max: options.poolMax,
      statementTimeoutMs: options.statementTimeoutMs,
      onIdleError: (error) =>
        app.log.warn({ err: error }, 'idle database connection lost; the pool replaces it'),
    })
    app.decorate('database', database)
    app.decorate('db', database.db)
    app.addHook('onClose', () => database.close())
  },
  { name: 'db' },
)
