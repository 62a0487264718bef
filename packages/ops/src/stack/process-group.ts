// Ctrl-C in a terminal signals the whole foreground process group at once, so
// the services and the embedded PostgreSQL (a child of this process) would all
// stop together, in no order. Commands that supervise processes therefore run in
// a child that leads a process group of its own: this process only relays
// SIGINT/SIGTERM/SIGHUP to it as SIGTERM, and the child stops its services first,
// then the database. If this relay dies, the child sees its IPC channel close and
// stops everything too.
import { spawn } from 'node:child_process'

const SUPERVISOR_FLAG = 'OPS_SUPERVISOR'
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

export function isSupervisor(env: Record<string, string | undefined>): boolean {
  return env[SUPERVISOR_FLAG] === '1'
}

/** Runs this same ops command line as a process group leader and relays stop signals to it. */
export function runAsSupervisor(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    env: { ...env, [SUPERVISOR_FLAG]: '1' },
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const relay = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  }
  for (const signal of STOP_SIGNALS) process.on(signal, relay)
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`error: cannot start the supervisor: ${error.message}\n`)
      resolve(1)
    })
    child.on('exit', (code, signal) => {
      for (const s of STOP_SIGNALS) process.off(s, relay)
      resolve(code ?? (signal ? 1 : 0))
    })
  })
}

/**
 * An AbortSignal that fires on the first SIGINT/SIGTERM/SIGHUP or when the relay
 * that started this supervisor goes away. Later signals only repeat `onRepeat`.
 */
export function stopRequests(onRepeat: (reason: string) => void = () => {}): AbortSignal {
  const controller = new AbortController()
  const request = (reason: string) => {
    if (controller.signal.aborted) onRepeat(reason)
    else controller.abort(reason)
  }
  for (const signal of STOP_SIGNALS) process.on(signal, () => request(signal))
  process.on('disconnect', () => request('the parent process went away'))
  return controller.signal
}

/** Resolves when `signal` aborts (at once if it already has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
