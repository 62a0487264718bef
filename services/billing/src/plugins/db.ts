// The service's pool and Drizzle instance (the shared databasePlugin), typed for
// the billing schema. Repositories receive `app.db`, never `app`.
import type { ServiceDatabase } from '@app/db'
import { databasePlugin } from '@app/service'
import * as schema from '../db/schema.js'

export type BillingDatabase = ServiceDatabase<typeof schema>

declare module 'fastify' {
  interface FastifyInstance {
    db: BillingDatabase['db']
    database: BillingDatabase
  }
}

export const dbPlugin = databasePlugin('billing', schema)
