// A real PgBouncer (Debian's 1.18, stock settings) in front of the run's PostgreSQL,
// on a free port of 127.0.0.1, its config in a temporary directory: the pooler the
// services meet in production, for drills that prove they work behind it.
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '@app/db/embedded'
import pg from 'pg'
import { startToolProcess, type ToolHandle, toolHandle, waitForTool } from './tool-process.js'

const PGBOUNCER = '/usr/sbin/pgbouncer'

export interface PgBouncerUser {
  name: string
  password: string
}

export interface PgBouncerOptions {
  /** Admin URL of the real server: its host and port are where PgBouncer connects. */
  serverUrl: string
  /** Databases to expose, under the same names. */
  databases: string[]
  /**
   * The logins clients may use (the auth_file, plain passwords). PgBouncer logs in to
   * the server as the same user with the same password (or none, where the server trusts).
   */
  users: PgBouncerUser[]
  /** Default 'transaction', as in production. */
  poolMode?: 'transaction' | 'session'
  /** Server connections per (database, user); default 4. */
  defaultPoolSize?: number
  /** Extra [pgbouncer] settings, e.g. { max_client_conn: 500 }. */
  settings?: Record<string, string | number>
}

/** logLines: PgBouncer's log; config: the generated pgbouncer.ini. */
export interface PgBouncer extends ToolHandle {
  port: number
  /** A connection URL through the pooler. */
  url(user: string, password: string, database: string): string
  /**
   * A command on the admin console (SHOW POOLS, SHOW CLIENTS, SHOW SERVERS, RECONNECT,
   * PAUSE, ...), as its admin user. One statement; the console speaks only the simple protocol.
   */
  adminQuery<T extends pg.QueryResultRow = Record<string, string>>(sql: string): Promise<T[]>
}

// Names go into pgbouncer.ini unquoted; the drills' names (run prefix, hex) all fit.
const PLAIN_NAME = /^[A-Za-z0-9_]+$/

function plainName(kind: string, name: string): string {
  if (!PLAIN_NAME.test(name)) throw new Error(`${kind} ${JSON.stringify(name)}: use letters, digits and _`)
  return name
}

// auth_file lines are `"name" "password"`, a double quote doubled inside.
function authLine(user: PgBouncerUser): string {
  const quote = (value: string) => `"${value.replaceAll('"', '""')}"`
  return `${quote(user.name)} ${quote(user.password)}`
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const server = new URL(options.serverUrl)
  const serverHost = server.hostname
  const serverPort = server.port || '5432'
  const port = await freePort()
  const admin: PgBouncerUser = { name: 'drills_pgbouncer_admin', password: randomBytes(12).toString('hex') }

  // As root PgBouncer runs as `nobody`, which must read this directory and its files.
  const dir = mkdtempSync(path.join(tmpdir(), 'drills-pgbouncer-'))
  chmodSync(dir, 0o755)
  const authFile = path.join(dir, 'userlist.txt')
  const configFile = path.join(dir, 'pgbouncer.ini')
  const settings: Record<string, string | number> = {
    listen_addr: '127.0.0.1',
    listen_port: port,
    // TCP only: no /tmp/.s.PGSQL.<port> socket to clash with a server's.
    unix_socket_dir: '',
    // Plain passwords in the auth_file serve both sides: SCRAM with the clients, and
    // SCRAM (an embedded server) or nothing (a trusting one) with the server.
    auth_type: 'scram-sha-256',
    auth_file: authFile,
    admin_users: admin.name,
    pool_mode: options.poolMode ?? 'transaction',
    default_pool_size: options.defaultPoolSize ?? 4,
    ...options.settings,
  }
  const config = [
    '[databases]',
    ...options.databases.map(
      (name) => `${plainName('database', name)} = host=${serverHost} port=${serverPort} dbname=${name}`,
    ),
    '',
    '[pgbouncer]',
    ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
    '',
  ].join('\n')
  writeFileSync(authFile, `${[...options.users, admin].map(authLine).join('\n')}\n`, { mode: 0o644 })
  writeFileSync(configFile, config, { mode: 0o644 })

  // In the foreground (no -d): logs go to stderr, and the process is ours to stop.
  const proc = startToolProcess({ command: PGBOUNCER, args: [configFile], cwd: dir, userWhenRoot: 'nobody' })
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }))

  const url = (user: string, password: string, database: string) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`

  async function adminQuery<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: url(admin.name, admin.password, 'pgbouncer') })
    await client.connect()
    try {
      return (await client.query<T>(sql)).rows
    } finally {
      await client.end()
    }
  }

  try {
    // Ready once the admin console answers: listening, and the auth_file read.
    await waitForTool('pgbouncer', proc, () => adminQuery('SHOW VERSION'))
  } catch (error) {
    await proc.kill()
    throw error
  }

  return toolHandle(proc, config, { port, url, adminQuery })
}
