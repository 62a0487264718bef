// The one way a test (or the bench) starts a service as a real process: `node
// dist/server.js` in its folder, as the image does (@app/process), with only the
// environment the test gives, every line it writes kept, and readiness that fails
// with those lines. Whatever a failed test leaves running is killed by
// killLeftovers, or at the latest when the test process exits.
import path from 'node:path'
import { freePort } from '@app/db/embedded'
import { requireService } from '@app/migrations/authoring'
import {
  describeExit,
  type Exit,
  type ProcessOptions,
  pollUntilReady,
  type RunningProcess,
  startProcess as spawnProcess,
  startServiceProcess,
} from '@app/process'

export type { Exit }

export interface LogEntry {
  level: number
  msg: string
  [field: string]: unknown
}

export interface KeptProcess extends RunningProcess {
  name: string
  /** stdout and stderr, line by line, as written (none with `logFile`). */
  lines: string[]
}

export interface ServiceProcess extends KeptProcess {
  port: number
  baseUrl: string
  /** The log lines that are JSON (pino), parsed. */
  logEntries(): LogEntry[]
  /**
   * Polls /readyz until 200 and resolves with the time from launch, in ms; fails with
   * the last lines if the process exits first, or kills it after `timeoutMs` (default 30 s).
   */
  waitUntilReady(options?: { timeoutMs?: number; intervalMs?: number }): Promise<number>
}

export interface StartServiceOptions {
  /** A service by name (its folder in services/)... */
  service?: string
  /** ...or the folder holding dist/server.js (a service's, or a copy of it). */
  dir?: string
  /** In messages (default: the service's or the folder's name). */
  name?: string
  /** The service's variables. PATH and HOST=127.0.0.1 unless given here; nothing else of the test's. */
  env?: Record<string, string | undefined>
  /** PORT (default: a free one). */
  port?: number
  nodeArgs?: readonly string[]
  /** Another script than dist/server.js, relative to the folder (a baseline measured the same way). */
  script?: string
  /** The output appended to this file instead of kept in `lines`. */
  logFile?: string
}

const leftovers = new Set<RunningProcess>()
let exitHook = false

function keep<T extends RunningProcess>(proc: T): T {
  leftovers.add(proc)
  void proc.exited.then(() => leftovers.delete(proc))
  if (!exitHook) {
    exitHook = true
    // A worker that ends without afterAll (a crash, a timeout) must not leave servers behind.
    process.once('exit', () => {
      for (const left of leftovers) left.child.kill('SIGKILL')
    })
  }
  return proc
}

/** After each test file (afterAll): whatever a failed test left running is killed and reaped. */
export async function killLeftovers(): Promise<void> {
  await Promise.all(
    [...leftovers].map((proc) => {
      // The child's own kill, not the handle's: a caller may count the handle's kills as faults it caused.
      if (proc.running) proc.child.kill('SIGKILL')
      return proc.exited
    }),
  )
}

/** Any other program (PgBouncer, a migration job) with the same output, exit and cleanup. */
export function startProcess(options: Omit<ProcessOptions, 'onLine'> & { name?: string }): KeptProcess {
  const lines: string[] = []
  const proc = spawnProcess({ ...options, onLine: (line) => lines.push(line) })
  return keep(Object.assign(proc, { name: options.name ?? path.basename(options.command), lines }))
}

export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const dir = options.dir ?? requireService(options.service).dir
  const name = options.name ?? options.service ?? path.basename(dir)
  const port = options.port ?? (await freePort())
  const baseUrl = `http://127.0.0.1:${port}`
  const lines: string[] = []
  const proc = startServiceProcess({
    dir,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...options.env, PORT: String(port) },
    ...(options.logFile ? { logFile: options.logFile } : { onLine: (line: string) => lines.push(line) }),
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    ...(options.script ? { script: options.script } : {}),
  })
  const lastLines = () => (options.logFile ? `see ${options.logFile}` : lines.slice(-20).join('\n'))
  const service: ServiceProcess = Object.assign(proc, {
    name,
    lines,
    port,
    baseUrl,
    logEntries: () => parseLog(lines),
    async waitUntilReady({ timeoutMs = 30_000, intervalMs = 50 } = {}) {
      const until = new AbortController()
      void proc.exited.then(() => until.abort())
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => until.abort(), timeoutMs) : undefined
      try {
        if (await pollUntilReady(`${baseUrl}/readyz`, { signal: until.signal, intervalMs })) {
          return performance.now() - proc.launchedAt
        }
      } finally {
        clearTimeout(timer)
      }
      if (!proc.running) {
        const exit = await proc.exited
        throw new Error(`${name} exited (${describeExit(exit)}) before it was ready:\n${lastLines()}`)
      }
      await proc.kill()
      throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${lastLines()}`)
    },
  })
  return keep(service)
}

/** startService, then waitUntilReady. */
export async function startReadyService(
  options: StartServiceOptions & { timeoutMs?: number },
): Promise<ServiceProcess> {
  const service = await startService(options)
  await service.waitUntilReady({ timeoutMs: options.timeoutMs })
  return service
}

export function parseLog(lines: readonly string[]): LogEntry[] {
  const entries: LogEntry[] = []
  for (const line of lines) {
    if (!line.startsWith('{')) continue
    try {
      entries.push(JSON.parse(line) as LogEntry)
    } catch {}
  }
  return entries
}
