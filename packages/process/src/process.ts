// A child process as the stack runs one: its output read line by line (or written
// straight to a file), its exit awaited once its last line is read, and stop/kill
// that resolve with that exit. Services (service.ts) and any other program use it.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { createInterface } from 'node:readline'

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ProcessOptions {
  command: string
  args?: readonly string[]
  cwd: string
  /** The whole environment: nothing of this process's own is added. */
  env: NodeJS.ProcessEnv
  /** Called with each line of stdout and stderr, as written. */
  onLine?: (line: string) => void
  /**
   * Both streams appended straight to this file instead: piped through this process,
   * a busy service's log would cost this process CPU (bench measures the service's).
   */
  logFile?: string
}

export interface RunningProcess {
  child: ChildProcess
  /** performance.now() just before the spawn: where a start-up time is measured from. */
  launchedAt: number
  /** Resolves once the process has exited and its last lines are read; `{ code: null, signal: null }` if it never started. */
  exited: Promise<Exit>
  readonly running: boolean
  /** Sends `signal` (default SIGTERM), then SIGKILL if it still runs after `graceMs` (default 15 s); resolves with the exit. */
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<Exit>
  /** SIGKILL (kill -9), then waits for the exit. */
  kill(): Promise<Exit>
}

export function startProcess(options: ProcessOptions): RunningProcess {
  let stdio: StdioOptions = ['ignore', 'ignore', 'ignore']
  let logFd: number | undefined
  if (options.logFile) {
    logFd = openSync(options.logFile, 'a')
    stdio = ['ignore', logFd, logFd]
  } else if (options.onLine) {
    // Never a pipe nobody reads: the child would block once its buffer is full.
    stdio = ['ignore', 'pipe', 'pipe']
  }
  const launchedAt = performance.now()
  const child = spawn(options.command, options.args ?? [], { cwd: options.cwd, env: options.env, stdio })
  if (logFd !== undefined) closeSync(logFd)
  if (options.onLine && !options.logFile) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', options.onLine)
    }
  }
  // 'close' (not 'exit'): the last lines the process wrote are read before anyone reacts.
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }))
    child.on('error', (error) => {
      // A failed spawn emits 'error' and may never emit 'close'; later errors (a failed kill) change nothing.
      if (child.pid !== undefined) return
      options.onLine?.(`cannot start ${options.command}: ${error.message}`)
      resolve({ code: null, signal: null })
    })
  })
  const isRunning = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null
  // Each signal at most once: a second SIGTERM makes a service skip its graceful shutdown.
  const sent = new Set<NodeJS.Signals>()
  const send = (signal: NodeJS.Signals) => {
    if (isRunning() && !sent.has(signal)) {
      sent.add(signal)
      child.kill(signal)
    }
  }
  return {
    child,
    launchedAt,
    exited,
    get running() {
      return isRunning()
    },
    async stop({ signal = 'SIGTERM', graceMs = 15_000 } = {}) {
      send(signal)
      // setTimeout turns anything above 2^31-1 ms (Infinity included) into 1 ms.
      const timer = Number.isFinite(graceMs) ? setTimeout(() => send('SIGKILL'), graceMs) : undefined
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
    async kill() {
      send('SIGKILL')
      return exited
    },
  }
}

export function describeExit(exit: Exit): string {
  if (exit.signal) return `killed by ${exit.signal}`
  return exit.code === null ? 'never started' : `exit code ${exit.code}`
}
