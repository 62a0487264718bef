// The make verbs take one admin connection: DATABASE_URL (a superuser or the
// database owner), or by default the embedded development database in .dev/.
// From it they derive each service's own connection (its role, its password), so
// tables are always created and owned by the service's role, never by the admin.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { describeTarget } from '@app/db'
import { startEmbeddedPostgres } from '@app/db/embedded'
import pg from 'pg'
import { repoRoot, type ServiceInfo } from './repo.js'

export const DEV_DATABASE = {
  port: 54320,
  password: 'postgres',
  database: 'app',
  dataDir: () => path.join(repoRoot(), '.dev', 'postgres'),
}

export function devAdminUrl(database = DEV_DATABASE.database): string {
  return `postgres://postgres:${DEV_DATABASE.password}@127.0.0.1:${DEV_DATABASE.port}/${database}`
}

export type Env = Record<string, string | undefined>

/** `<SERVICE>_DB_PASSWORD`, or the development default. */
export function servicePassword(service: Pick<ServiceInfo, 'name'>, env: Env): string {
  return env[`${service.name.toUpperCase()}_DB_PASSWORD`] || `${service.name}-dev-password`
}

/** The admin URL's server and database, logged in as the service's own role. */
export function serviceUrl(
  adminUrl: string,
  service: Pick<ServiceInfo, 'name' | 'schema'>,
  env: Env,
): string {
  const url = new URL(adminUrl)
  url.username = encodeURIComponent(service.schema)
  url.password = encodeURIComponent(servicePassword(service, env))
  return url.toString()
}

async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.end()
    return true
  } catch {
    return false
  }
}

/** The development cluster's application database, created on first use. */
async function ensureDevDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: devAdminUrl('postgres') })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DEV_DATABASE.database,
    ])
    if (!rowCount) await client.query(`CREATE DATABASE "${DEV_DATABASE.database}"`)
  } finally {
    await client.end()
  }
}

export interface AdminDatabase {
  url: string
  /** Where it came from, for the first line a command prints. */
  source: 'DATABASE_URL' | 'embedded (running)' | 'embedded (started)'
  /** Stops the embedded server if this call started it. */
  release(): Promise<void>
}

/**
 * DATABASE_URL if set; else the embedded development database: the running one
 * (make dev) or one started now from .dev/postgres and stopped by release().
 */
export async function openAdminDatabase(
  env: Env,
  log: (line: string) => void = () => {},
): Promise<AdminDatabase> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, source: 'DATABASE_URL', release: async () => {} }
  const url = devAdminUrl()
  if (await accepts(devAdminUrl('postgres'))) {
    await ensureDevDatabase()
    return { url, source: 'embedded (running)', release: async () => {} }
  }
  const dataDir = DEV_DATABASE.dataDir()
  log(
    existsSync(dataDir)
      ? `starting the embedded development database (${path.relative(process.cwd(), dataDir) || dataDir})`
      : `creating the embedded development database in ${path.relative(process.cwd(), dataDir) || dataDir}`,
  )
  const server = await startEmbeddedPostgres({
    dataDir,
    port: DEV_DATABASE.port,
    password: DEV_DATABASE.password,
  })
  await ensureDevDatabase()
  return { url, source: 'embedded (started)', release: () => server.stop() }
}

export function describeAdmin(admin: AdminDatabase): string {
  return `${describeTarget(admin.url)} (${admin.source})`
}
