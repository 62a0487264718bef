// The service's pool and Drizzle instance (the shared databasePlugin), typed for
// the auth schema. Repositories receive `app.db`, never `app`.
import type { ServiceDatabase } from '@app/db'
import { databasePlugin } from '@app/service'
import * as schema from '../db/schema.js'

export type AuthDatabase = ServiceDatabase<typeof schema>

declare module 'fastify' {
  interface FastifyInstance {
    db: AuthDatabase['db']
    database: AuthDatabase
  }
}

export const dbPlugin = databasePlugin('auth', schema)
