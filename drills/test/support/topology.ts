// The production topology on one machine: a database where the bootstrap ran (each
// service's owner and runtime roles), a PgBouncer in transaction mode in front of it
// (Debian's 1.18, stock settings), and the connections a service process gets
// through it, with the setting the README recommends for that pooler: requests through
// the pooler, migrations directly to PostgreSQL (a `-- migrate: no-transaction` file
// needs one server session, which a transaction pooler does not keep).
import type { ScratchDatabase } from '@app/db'
import { ownerUrl, rolePassword, serviceRoles } from '@app/migrations/authoring'
import { bootstrappedDatabase, type ServiceName } from './databases.js'
import { type PgBouncer, startPgBouncer } from './pgbouncer.js'

export interface PooledDatabase {
  database: ScratchDatabase
  pgbouncer: PgBouncer
  /**
   * Requests as `<service>_app` through the pooler; migrations as `<service>`, directly
   * (the default, as the README recommends) or through the pooler too.
   */
  connections(
    name: ServiceName,
    options?: { migrations: 'direct' | 'pooler' },
  ): { databaseUrl: string; migrationDatabaseUrl: string }
  /** A URL through the pooler as any of the services' roles. */
  roleUrl(role: string): string
}

/** PgBouncer before 1.21 carries no prepared statement from one transaction to the next. */
export const POOLER_ENV = { DB_PREPARED_STATEMENTS: 'false' }

const SERVICES: ServiceName[] = ['auth', 'billing']

export async function pooledDatabase(
  purpose: string,
  options: { defaultPoolSize?: number; bootstrapEnv?: Record<string, string> } = {},
): Promise<PooledDatabase> {
  const database = await bootstrappedDatabase(purpose, options.bootstrapEnv)
  const roles = SERVICES.flatMap((name) => Object.values(serviceRoles({ name })))
  const pgbouncer = await startPgBouncer({
    serverUrl: database.url,
    databases: [database.name],
    users: roles.map((role) => ({ name: role, password: rolePassword(role, {}) })),
    poolMode: 'transaction',
    defaultPoolSize: options.defaultPoolSize ?? 4,
    // Replicas x pool size client connections; the default (100) is for one app.
    settings: { max_client_conn: 2000 },
  })
  const roleUrl = (role: string) => pgbouncer.url(role, rolePassword(role, {}), database.name)
  return {
    database,
    pgbouncer,
    roleUrl,
    connections: (name, { migrations } = { migrations: 'direct' }) => {
      const { owner, runtime } = serviceRoles({ name })
      return {
        databaseUrl: roleUrl(runtime),
        migrationDatabaseUrl: migrations === 'pooler' ? roleUrl(owner) : ownerUrl(database.url, { name }, {}),
      }
    },
  }
}
