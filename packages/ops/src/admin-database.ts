// The make verbs take one admin connection: DATABASE_URL (a superuser or the
// database owner), or by default the embedded development database in .dev/.
// From it they derive each service's own connection (its role, its password), so
// tables are always created and owned by the service's role, never by the admin.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { describeTarget, redactUrl } from '@app/db'
import { startEmbeddedPostgres } from '@app/db/embedded'
import { bootstrapServices, discoverServices, repoRoot, UsageError } from '@app/migrations/authoring'
import pg from 'pg'
import { displayPath } from './display-path.js'

export type Env = Record<string, string | undefined>

/** The embedded development cluster's defaults; DEV_DB_PORT and DEV_DB_DIR move it (tests, two checkouts). */
export const DEV_DATABASE = {
  port: 54320,
  password: 'postgres',
  database: 'app',
  dataDir: () => path.join(repoRoot(), '.dev', 'postgres'),
}

export interface DevDatabase {
  port: number
  dataDir: string
  /** Superuser URL of the application database (or of `database`). */
  url(database?: string): string
}

export function devDatabase(env: Env): DevDatabase {
  const port = env.DEV_DB_PORT ? Number(env.DEV_DB_PORT) : DEV_DATABASE.port
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`DEV_DB_PORT must be a TCP port (1-65535), got '${env.DEV_DB_PORT}'`)
  }
  return {
    port,
    dataDir: env.DEV_DB_DIR ? path.resolve(env.DEV_DB_DIR) : DEV_DATABASE.dataDir(),
    url: (database = DEV_DATABASE.database) =>
      `postgres://postgres:${DEV_DATABASE.password}@127.0.0.1:${port}/${database}`,
  }
}

/** The default embedded development database's superuser URL. */
export function devAdminUrl(database = DEV_DATABASE.database, env: Env = {}): string {
  return devDatabase(env).url(database)
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

/**
 * The development cluster's application database, created on first use with
 * every service's role and schema in it, so that `make migrate` and friends work
 * on a fresh clone without a `make bootstrap` first.
 */
async function ensureDevDatabase(
  dev: DevDatabase,
  env: Env,
  options: { bootstrap?: boolean },
  log: (line: string) => void,
): Promise<void> {
  const client = new pg.Client({ connectionString: dev.url('postgres') })
  await client.connect()
  let created = false
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DEV_DATABASE.database,
    ])
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${DEV_DATABASE.database}"`)
      created = true
    }
  } finally {
    await client.end()
  }
  if (created && options.bootstrap !== false) {
    const services = discoverServices()
    await bootstrapServices(dev.url(), services, env)
    log(`bootstrapped the new database: roles and schemas ${services.map((s) => s.name).join(', ')}`)
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
  options: {
    serverLog?: (line: string) => void
    /** Bootstrap the development database when this call creates it (default true). */
    bootstrap?: boolean
  } = {},
): Promise<AdminDatabase> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, source: 'DATABASE_URL', release: async () => {} }
  const dev = devDatabase(env)
  const url = dev.url()
  if (await accepts(dev.url('postgres'))) {
    await ensureDevDatabase(dev, env, options, log)
    return { url, source: 'embedded (running)', release: async () => {} }
  }
  const dataDir = dev.dataDir
  log(
    existsSync(path.join(dataDir, 'PG_VERSION'))
      ? `starting the embedded development database (${displayPath(dataDir)})`
      : `creating the embedded development database in ${displayPath(dataDir)}`,
  )
  const server = await startEmbeddedPostgres({
    dataDir,
    port: dev.port,
    password: DEV_DATABASE.password,
    ...(options.serverLog ? { onLog: options.serverLog } : {}),
  })
  await ensureDevDatabase(dev, env, options, log)
  return { url, source: 'embedded (started)', release: () => server.stop() }
}

export function describeAdmin(admin: AdminDatabase): string {
  return `${describeTarget(admin.url)} (${admin.source})`
}

/** The admin URL with its password hidden, and where the server comes from. */
export function describeDatabase(admin: AdminDatabase, env: Env): string {
  const origin =
    admin.source === 'DATABASE_URL'
      ? 'from DATABASE_URL'
      : `embedded, ${admin.source === 'embedded (running)' ? 'already running' : 'started here'}, data in ${displayPath(devDatabase(env).dataDir)}`
  return `${redactUrl(admin.url)} (${origin})`
}
