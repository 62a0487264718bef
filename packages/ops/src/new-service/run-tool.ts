// Runs a tool of the workspace (pnpm install, biome) for `make new-service`: its output is
// printed only if it fails, and it gets a time limit. Why a limit: the install links one
// package from a store that already holds everything, a matter of seconds, yet on Node 24
// a `pnpm install` was seen to hang with nothing left to do (bench/README.md's eighth
// pass): without a limit `make new-service` would wait forever with its files half
// written; with one it stops the tool, says so, and the command puts the files back.
import { spawn } from 'node:child_process'

export const TOOL_TIME_LIMIT_MS = 10 * 60_000

export function runTool(
  root: string,
  command: string,
  args: string[],
  err: (line: string) => void,
  timeLimitMs = TOOL_TIME_LIMIT_MS,
): Promise<boolean> {
  return new Promise((resolve) => {
    // Same process group as make: Ctrl-C reaches the tool too.
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let settled = false
    const settle = (ok: boolean, why?: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (!ok) for (const line of output.trimEnd().split('\n')) if (line) err(`  ${line}`)
      if (why) err(why)
      resolve(ok)
    }
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      // Not waiting for 'close': something the tool started may still hold its output open.
      settle(false, `${[command, ...args].join(' ')}: not done after ${timeLimitMs / 1000} s, stopped`)
    }, timeLimitMs)
    child.on('error', (error) => settle(false, `${command}: ${error.message}`))
    child.on('close', (code) => settle(code === 0))
  })
}
