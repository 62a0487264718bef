// A system daemon (pgbouncer, haproxy) run by a drill in the foreground as its child:
// output kept line by line, stopped by the drill, killed by killLeftovers after a
// failed one, and killed by the kernel if the test worker itself dies.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { userInfo } from 'node:os'
import { createInterface } from 'node:readline'
import { type Exit, registerLeftover } from './service-process.js'

export interface ToolProcess {
  child: ChildProcess
  /** stdout and stderr, line by line, as written. */
  lines: string[]
  exited: Promise<Exit>
  readonly running: boolean
  /** Sends `signal`, then SIGKILL if it is still running after `graceMs`; resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>
}

export interface ToolOptions {
  command: string
  args: string[]
  cwd: string
  /** When the tests run as root: the user to run as instead (pgbouncer refuses root). */
  userWhenRoot?: string
}

const SETPRIV = '/usr/bin/setpriv'

// util-linux's setpriv sets PR_SET_PDEATHSIG before exec'ing the tool, so a test worker
// that crashes or is killed (no afterAll runs then) takes the tool with it. It also
// switches the user itself: the tool's own switch (pgbouncer -u) would be a credential
// change after exec, which clears the parent-death signal (prctl(2)).
function commandLine(options: ToolOptions): [string, string[]] {
  const asUser = userInfo().uid === 0 ? options.userWhenRoot : undefined
  if (!existsSync(SETPRIV)) {
    if (asUser) throw new Error(`${SETPRIV} (util-linux) is missing: it runs ${options.command} as ${asUser}`)
    // Without it, afterAll's killLeftovers still stops the tool; only a dead worker leaks it.
    return [options.command, options.args]
  }
  const user = asUser
    ? ['--reuid', asUser, '--regid', execFileSync('id', ['-g', asUser]).toString().trim(), '--clear-groups']
    : []
  return [SETPRIV, [...user, '--pdeathsig', 'SIGKILL', '--', options.command, ...options.args]]
}

export function startToolProcess(options: ToolOptions): ToolProcess {
  const [command, args] = commandLine(options)
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const closed: Promise<void>[] = []
  for (const stream of [child.stdout!, child.stderr!]) {
    const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
    reader.on('line', (line) => lines.push(line))
    closed.push(new Promise((resolve) => reader.once('close', resolve)))
  }
  // A failed spawn emits 'error' and no 'exit'; both settle `exited`.
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (error) => {
      lines.push(`spawn ${command} failed: ${error.message}`)
      resolve({ code: null, signal: null })
    })
    child.once('exit', (code, signal) => {
      void Promise.all(closed).then(() => resolve({ code, signal }))
    })
  })
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined
  const unregister = registerLeftover(() => {
    if (running()) child.kill('SIGKILL')
    return exited
  })
  void exited.then(unregister)
  return {
    child,
    lines,
    exited,
    get running() {
      return running()
    },
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      if (!running()) return exited
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/** Polls `attempt` until it resolves; fails with the tool's output if it exits or `timeoutMs` passes. */
export async function waitForTool<T>(
  name: string,
  proc: ToolProcess,
  attempt: () => Promise<T>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    if (!proc.running) {
      const exit = await proc.exited
      throw new Error(
        `${name} exited (${exit.signal ?? exit.code}) before it was ready:\n${proc.lines.slice(-20).join('\n')}`,
      )
    }
    try {
      return await attempt()
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${name} not ready after ${timeoutMs} ms (${String(lastError)}):\n${proc.lines.slice(-20).join('\n')}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
