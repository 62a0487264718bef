// A PgBouncer in transaction mode (Debian's, 1.18 here: the pooler of docs/production.md)
// between the services and the bench's PostgreSQL, on a free port, for the cost of the
// pooler hop. As in the drills (drills/test/support/pgbouncer.ts): stock settings, plain
// passwords in the auth_file (SCRAM on both sides), run as `nobody` when this process
// is root (PgBouncer refuses root), with the parent-death signal set by setpriv.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import { freePort } from '@app/db/embedded'
import pg from 'pg'

const PGBOUNCER = '/usr/sbin/pgbouncer'
const SETPRIV = '/usr/bin/setpriv'
export const PGBOUNCER_MISSING = `${PGBOUNCER} is missing (scripts/ensure-test-tools.sh installs it): the rows through PgBouncer are left out`

export interface BenchPgBouncer {
  version: string
  pid: number
  /** The same URL (role, password, database) through the pooler. */
  through(url: string): string
  stop(): Promise<void>
}

export async function startPgBouncer(options: {
  /** Direct URLs of the roles that will connect (their passwords go in the auth_file). */
  roleUrls: string[]
  /** Server connections per (database, role): the services' pool size, as production would size it. */
  poolSize: number
  logFile: string
}): Promise<BenchPgBouncer | { missing: string }> {
  if (!existsSync(PGBOUNCER)) return { missing: PGBOUNCER_MISSING }
  const version = /PgBouncer ([\d.]+)/.exec(
    spawnSync(PGBOUNCER, ['--version'], { encoding: 'utf8' }).stdout,
  )?.[1]
  const server = new URL(options.roleUrls[0]!)
  const database = server.pathname.slice(1)
  const port = await freePort()
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-pgbouncer-'))
  chmodSync(dir, 0o755)
  const users = [...new Map(options.roleUrls.map((u) => new URL(u)).map((u) => [u.username, u])).values()]
  writeFileSync(
    path.join(dir, 'userlist.txt'),
    users.map((u) => `"${decodeURIComponent(u.username)}" "${decodeURIComponent(u.password)}"`).join('\n'),
    { mode: 0o644 },
  )
  writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = host=${server.hostname} port=${server.port || 5432} dbname=${database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize}`,
      'max_client_conn = 1000',
      '',
    ].join('\n'),
    { mode: 0o644 },
  )
  const asNobody =
    userInfo().uid === 0
      ? [
          '--reuid',
          'nobody',
          '--regid',
          execFileSync('id', ['-g', 'nobody']).toString().trim(),
          '--clear-groups',
        ]
      : []
  const log = openSync(options.logFile, 'a')
  const child: ChildProcess = spawn(
    SETPRIV,
    [...asNobody, '--pdeathsig', 'SIGKILL', '--', PGBOUNCER, path.join(dir, 'pgbouncer.ini')],
    { cwd: dir, stdio: ['ignore', log, log] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const through = (url: string) => {
    const target = new URL(url)
    target.hostname = '127.0.0.1'
    target.port = String(port)
    return target.toString()
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 15_000
  for (;;) {
    const client = new pg.Client({ connectionString: through(options.roleUrls[0]!) })
    try {
      await client.connect()
      await client.query('SELECT 1')
      await client.end()
      break
    } catch (error) {
      await client.end().catch(() => {})
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop()
        throw new Error(`pgbouncer did not start (see ${options.logFile}): ${String(error)}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { version: version ?? '?', pid: child.pid!, through, stop }
}
