// A system daemon (pgbouncer, haproxy) run by a drill in the foreground as its child
// (@app/testkit's startProcess): output kept line by line, stopped by the drill,
// killed by killLeftovers after a failed one, and killed by the kernel if the test
// worker itself dies.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { userInfo } from 'node:os'
import path from 'node:path'
import { type KeptProcess, startProcess } from '@app/testkit'

export type ToolProcess = KeptProcess

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
  return startProcess({
    name: path.basename(options.command),
    command,
    args,
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  })
}

/** What a drill does with any tool it started, whatever the tool. */
export interface ToolHandle {
  /** Its log (stderr: requests, state changes, alerts), line by line. */
  logLines: string[]
  /** The generated configuration, for a failing drill's message. */
  config: string
  readonly running: boolean
  /** SIGTERM (the tool's immediate stop), SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>
}

/** The tool's own members (`own`) and the ToolHandle ones, over `proc`. */
export function toolHandle<T extends object>(proc: ToolProcess, config: string, own: T): T & ToolHandle {
  const handle: ToolHandle = {
    logLines: proc.lines,
    config,
    get running() {
      return proc.running
    },
    async stop() {
      await proc.stop({ graceMs: 5_000 })
    },
  }
  // Object.assign onto `handle` keeps its `running` getter live.
  return Object.assign(handle, own)
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
