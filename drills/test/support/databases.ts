// Databases for the drills, on the run's server: a clone of the migrated template,
// or an empty one where only the bootstrap ran (roles and schemas, no migration).
// Each is dropped after the file.
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import {
  bootstrapServices,
  discoverServices,
  ownerUrl,
  runtimeUrl,
  type ServiceInfo,
} from '@app/migrations/authoring'
import pg from 'pg'
import { afterAll, inject } from 'vitest'

export type ServiceName = 'auth' | 'billing'

export function service(name: ServiceName): ServiceInfo {
  const found = discoverServices().find((s) => s.name === name)
  if (!found) throw new Error(`no service ${name} in services/`)
  return found
}

/** This database as the service's schema owner (migrations), e.g. `auth`. */
export function ownerRoleUrl(databaseUrl: string, name: ServiceName): string {
  return ownerUrl(databaseUrl, service(name), {})
}

/** This database as the service's runtime role (requests, DML only), e.g. `auth_app`. */
export function runtimeRoleUrl(databaseUrl: string, name: ServiceName): string {
  return runtimeUrl(databaseUrl, service(name), {})
}

/** What a service process gets, as `make run` gives it: requests as the runtime role, migrations as the owner. */
export function serviceDatabase(
  databaseUrl: string,
  name: ServiceName,
): { databaseUrl: string; migrationDatabaseUrl: string } {
  return {
    databaseUrl: runtimeRoleUrl(databaseUrl, name),
    migrationDatabaseUrl: ownerRoleUrl(databaseUrl, name),
  }
}

export async function migratedDatabase(purpose: string): Promise<ScratchDatabase> {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, {
    prefix: `${run.prefix}_${purpose}`,
    template: run.prepared.template!,
  })
  afterAll(() => database.drop())
  return database
}

/** An empty database where only the bootstrap ran; `env` as `make bootstrap` reads it (e.g. AUTH_STATEMENT_TIMEOUT). */
export async function bootstrappedDatabase(
  purpose: string,
  env: Record<string, string> = {},
): Promise<ScratchDatabase> {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_${purpose}` })
  afterAll(() => database.drop())
  await bootstrapServices(database.url, discoverServices(), env)
  return database
}

export async function query<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'drills' })
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end()
  }
}

/** Sessions of one application (a service's pool, its migration connection) on a database. */
export async function sessionsOf(adminUrl: string, database: string, applicationName: string) {
  return query<{ pid: number; state: string | null; query: string; wait_event_type: string | null }>(
    adminUrl,
    `SELECT pid, state, query, wait_event_type FROM pg_stat_activity
      WHERE datname = $1 AND application_name = $2`,
    [database, applicationName],
  )
}

/**
 * Sessions that ended because their client vanished without saying goodbye (a process
 * that exits with connections open, or is killed), as opposed to closing them.
 */
export async function abandonedSessions(adminUrl: string, database: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'drills' })
  await client.connect()
  try {
    // Statistics are read through a per-transaction snapshot; take a fresh one.
    await client.query('SELECT pg_stat_clear_snapshot()')
    const { rows } = await client.query<{ n: string }>(
      'SELECT sessions_abandoned AS n FROM pg_stat_database WHERE datname = $1',
      [database],
    )
    return Number(rows[0]?.n ?? 0)
  } finally {
    await client.end()
  }
}

/** Polls until `check` holds; the test's own timeout bounds the wait. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  intervalMs = 50,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await check().catch(() => undefined)
    if (result !== undefined && result !== false) return result
    if (attempt % 200 === 0) console.log(`still waiting: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
