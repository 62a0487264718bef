// A service's database, as one Fastify plugin: the pool and Drizzle instance
// (app.db, what repositories receive), created when the app is built and closed
// with it, and the two readiness checks that depend on it, registered here rather
// than handed to the app before the pool exists: the database answers, and every
// migration of this build is in the ledger.
import { createServiceDatabase } from '@app/db'
import { migrationsAppliedCheck, migrationsLedgerCount } from '@app/migrations'
import type { NodePgQueryResultHKT } from 'drizzle-orm/node-postgres'
import type { PgDatabase } from 'drizzle-orm/pg-core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * What repositories take: the service's Drizzle database, or a transaction on it.
 * Without a schema map: the services use the query builder, not the relational API,
 * so one type serves every service.
 */
export type Db = PgDatabase<NodePgQueryResultHKT, Record<string, never>>

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
    /**
     * Opens, in the background, the connections the first readiness probe will use,
     * so that their connect and password exchange happen while the migrations run
     * rather than after them (a failure is left to the readiness checks to report).
     * Resolves once they are open and idle; a start does not wait for it.
     */
    warmDatabase(): Promise<void>
  }
}

export interface DatabasePluginOptions {
  /** application_name of its connections (pg_stat_activity): the service's name. */
  name: string
  url: string
  poolMax: number
  /** Shared connections that pipeline the reads outside a transaction; 0: none (DB_PIPELINE_CONNECTIONS). */
  pipelineConnections: number
  /** Named prepared statements; false behind a pooler that cannot carry them (DB_PREPARED_STATEMENTS). */
  preparedStatements: boolean
  /** The service's schema and migrations folder, for the readiness check. */
  migrations: { schema: string; folder: string }
}

export const databasePlugin = fp(
  async (app: FastifyInstance, options: DatabasePluginOptions) => {
    const database = createServiceDatabase({
      url: options.url,
      applicationName: options.name,
      max: options.poolMax,
      pipelineConnections: options.pipelineConnections,
      preparedStatements: options.preparedStatements,
      onIdleError: (error) =>
        app.log.warn({ err: error }, 'idle or shared database connection lost; the next query opens another'),
    })
    app.decorate('db', database.db)
    // The first /readyz runs both checks below at once: on the shared connection when
    // reads are pipelined, else each on a connection of the pool's own.
    app.decorate('warmDatabase', async () => {
      if (database.pipelined) {
        await database.ping()
        return
      }
      await Promise.all(
        Array.from({ length: Math.min(2, options.poolMax) }, () =>
          database.pool.connect().then(
            (client) => client.release(),
            () => {},
          ),
        ),
      )
    })
    app.lifecycle.addCheck('database', () => database.ping())
    app.lifecycle.addCheck(
      'migrations',
      migrationsAppliedCheck({
        pool: database.pool,
        schema: options.migrations.schema,
        migrationsFolder: options.migrations.folder,
      }),
    )
    // /metrics reads the pool's counts and the ledger at each scrape, not per query.
    app.metrics.observeDatabase({
      pool: database.pool,
      pipelined: database.pipelined,
      maxConnections: options.poolMax,
      schema: options.migrations.schema,
      migrations: migrationsLedgerCount({
        pool: database.pool,
        schema: options.migrations.schema,
        migrationsFolder: options.migrations.folder,
      }),
    })
    app.addHook('onClose', () => database.close())
  },
  { name: 'db', dependencies: ['lifecycle', 'metrics'] },
)
