// Runs the real Makefile targets from the repository root, as a user would: for the
// ops tests and the drills (`@app/ops/testing`).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { repoRoot } from '@app/migrations/authoring'

/**
 * This process's environment without anything that would point make or ops
 * elsewhere: database URLs, an outer make's flags, dev-stack overrides.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(DATABASE_URL|MIGRATION_DATABASE_URL|TEST_DATABASE_URL|MAKEFLAGS|MFLAGS|MAKELEVEL|MAKEOVERRIDES)$/.test(
        key,
      )
    )
      continue
    if (/^(OPS_|DEV_DB_|DEV_SECRETS_|SHUTDOWN_|PG[A-Z])/.test(key)) continue
    if (/_(PORT|DB_PASSWORD|STATEMENT_TIMEOUT)$/.test(key) || key === 'PORT') continue
    env[key] = value
  }
  // Development secrets (auth's signing key) in a folder of this run, not the checkout's .dev/.
  return { ...env, NO_COLOR: '1', DEV_SECRETS_DIR: devSecretsDir(), ...extra }
}

let secrets: string | undefined
function devSecretsDir(): string {
  if (!secrets) {
    const dir = mkdtempSync(path.join(tmpdir(), 'dev-secrets-'))
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
    secrets = dir
  }
  return secrets
}

let dockerStub: string | undefined
/** `env` with a docker CLI whose engine is unreachable first on PATH, whatever this machine has. */
export function withoutDocker(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!dockerStub) {
    const dir = mkdtempSync(path.join(tmpdir(), 'no-docker-'))
    writeFileSync(
      path.join(dir, 'docker'),
      '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n',
      {
        mode: 0o755,
      },
    )
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
    dockerStub = dir
  }
  return { ...env, PATH: `${dockerStub}:${env.PATH}` }
}

export interface MakeResult {
  code: number
  stdout: string
  stderr: string
}

/** `cwd`: another checkout (a copy of the repository a test changes), by default this one. */
export function make(
  args: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  cwd = repoRoot(),
): Promise<MakeResult> {
  return new Promise((resolve) => {
    execFile('make', args, { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

/** The lines ops printed on stderr (make adds its own `make: *** ...` line when a recipe fails). */
export function opsErrors(result: MakeResult): string[] {
  return result.stderr.split('\n').filter((line) => line && !line.startsWith('make: '))
}

/** A long-running make target (make dev, make run) in a process group of its own, like a terminal's job. */
export class MakeJob {
  readonly child: ChildProcess
  output = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  constructor(args: string[], env: NodeJS.ProcessEnv, cwd = repoRoot()) {
    this.child = spawn('make', args, {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child.stdout!.on('data', (chunk) => {
      this.output += chunk
    })
    this.child.stderr!.on('data', (chunk) => {
      this.output += chunk
    })
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => resolve({ code, signal })),
    )
  }

  /** Resolves when the output matches; rejects, with the output so far, if make exits first. */
  async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    for (;;) {
      const match = this.output.match(pattern)
      if (match) return match
      const exited = await Promise.race([
        this.exited,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
      ])
      if (exited && !this.output.match(pattern)) {
        throw new Error(
          `make ${this.child.spawnargs.slice(1).join(' ')} exited (${JSON.stringify(exited)}) before printing ${pattern}:\n${this.output}`,
        )
      }
    }
  }

  /** Ctrl-C in a terminal: SIGINT to every process in the job's group. */
  interrupt(): void {
    process.kill(-this.child.pid!, 'SIGINT')
  }

  /** Makes sure nothing outlives a failed test (the supervisor leads a process group of its own). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    for (const { pid } of [...(await descendants(this.child.pid!)), { pid: this.child.pid! }]) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}

/** Every process below `pid`, with its command line. */
export async function descendants(pid: number): Promise<{ pid: number; args: string }[]> {
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
    execFile('ps', ['-e', '-o', 'pid=,ppid=,args='], (error, stdout) =>
      error ? reject(error) : resolve({ stdout }),
    ),
  )
  const rows = stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }))
  const found: { pid: number; args: string }[] = []
  const walk = (parent: number) => {
    for (const row of rows.filter((r) => r.ppid === parent)) {
      found.push({ pid: row.pid, args: row.args })
      walk(row.pid)
    }
  }
  walk(pid)
  return found
}
