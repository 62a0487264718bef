// A service as a real process, started as `make run` starts it: `node dist/server.js`
// in the service's folder, with DATABASE_URL (its own role's URL), PORT and the
// service's own settings, and nothing else from the test's environment. Every line
// it writes is kept, so drills can read its log (and check what it never logs).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { freePort } from '@app/db/embedded'
import { countFault } from './figures.js'

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ServiceProcess {
  name: string
  port: number
  baseUrl: string
  child: ChildProcess
  /** stdout and stderr, line by line, as written. */
  lines: string[]
  exited: Promise<Exit>
  readonly running: boolean
  /** The log lines that are JSON (pino), parsed. */
  logEntries(): LogEntry[]
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<Exit>
  /** SIGKILL (kill -9), then waits for the exit. */
  kill(): Promise<Exit>
}

export interface LogEntry {
  level: number
  msg: string
  [field: string]: unknown
}

const running = new Set<ServiceProcess>()
// What other helpers start (pgbouncer, haproxy: see tool-process.ts), killed by the same afterAll.
const otherLeftovers = new Set<() => Promise<unknown>>()

/** Makes killLeftovers call `kill` (SIGKILL and wait) too; returns the unregistering function. */
export function registerLeftover(kill: () => Promise<unknown>): () => void {
  otherLeftovers.add(kill)
  return () => otherLeftovers.delete(kill)
}

export interface StartOptions {
  name: string
  /** The folder holding dist/server.js (a service's, or a copy of it). */
  dir: string
  /** DATABASE_URL: requests, as the runtime role. */
  databaseUrl: string
  /** MIGRATION_DATABASE_URL: migrations, as the schema owner (default: databaseUrl). */
  migrationDatabaseUrl?: string
  env?: Record<string, string>
  port?: number
}

export async function startService(options: StartOptions): Promise<ServiceProcess> {
  const entry = path.join(options.dir, 'dist', 'server.js')
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the service first`)
  const port = options.port ?? (await freePort())
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: options.dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      ...(options.migrationDatabaseUrl ? { MIGRATION_DATABASE_URL: options.migrationDatabaseUrl } : {}),
      // Stop at once unless a drill measures the drain: nothing routes to these instances.
      SHUTDOWN_DRAIN_MS: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const closed: Promise<void>[] = []
  for (const stream of [child.stdout!, child.stderr!]) {
    const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
    reader.on('line', (line) => lines.push(line))
    closed.push(new Promise((resolve) => reader.once('close', resolve)))
  }
  // Resolved once the process has exited and its last lines are read.
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      void Promise.all(closed).then(() => resolve({ code, signal }))
    })
  })
  const proc: ServiceProcess = {
    name: options.name,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    lines,
    exited,
    get running() {
      return child.exitCode === null && child.signalCode === null
    },
    logEntries: () => parseLog(lines),
    async stop() {
      if (proc.running) child.kill('SIGTERM')
      return exited
    },
    async kill() {
      if (proc.running) {
        countFault('kill -9')
        child.kill('SIGKILL')
      }
      return exited
    },
  }
  running.add(proc)
  void exited.then(() => running.delete(proc))
  return proc
}

export function parseLog(lines: string[]): LogEntry[] {
  const entries: LogEntry[] = []
  for (const line of lines) {
    if (!line.startsWith('{')) continue
    try {
      entries.push(JSON.parse(line) as LogEntry)
    } catch {}
  }
  return entries
}

/** Polls /readyz until 200; fails with the process's output if it exits first. */
export async function waitUntilReady(proc: ServiceProcess): Promise<void> {
  for (;;) {
    if (!proc.running) {
      const exit = await proc.exited
      throw new Error(
        `${proc.name} exited (${exit.signal ?? exit.code}) before it was ready:\n${proc.lines.slice(-20).join('\n')}`,
      )
    }
    const status = await fetch(`${proc.baseUrl}/readyz`).then(
      async (response) => {
        await response.body?.cancel()
        return response.status
      },
      () => 0,
    )
    if (status === 200) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function startReadyService(options: StartOptions): Promise<ServiceProcess> {
  const proc = await startService(options)
  await waitUntilReady(proc)
  return proc
}

/** After each file: whatever a failed drill left running is killed, not left behind. */
export async function killLeftovers(): Promise<void> {
  await Promise.all([
    ...[...running].map((proc) => {
      if (proc.running) proc.child.kill('SIGKILL')
      return proc.exited
    }),
    ...[...otherLeftovers].map((kill) => kill()),
  ])
}
