import type { NodePgQueryResultHKT } from 'drizzle-orm/node-postgres'
import type { PgDatabase } from 'drizzle-orm/pg-core'
import type * as schema from './schema.js'

/** What repositories take: the service's Drizzle database or a transaction on it. */
export type Database = PgDatabase<NodePgQueryResultHKT, typeof schema>
