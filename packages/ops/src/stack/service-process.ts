// One service process, started exactly as its container image starts it:
// `node dist/server.js` in the service's folder (the image's WORKDIR holds the
// same layout), with an environment in which the only database credentials are
// the service's own two roles'.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Env } from '@app/migrations/authoring'
import { repoRoot, type ServiceInfo } from '@app/migrations/authoring'
import { displayPath } from '../display-path.js'

/** The start command, relative to the service folder; infra/docker/Dockerfile's CMD is the same. */
export const SERVICE_START_COMMAND = ['node', 'dist/server.js'] as const

/**
 * The caller's environment minus every database credential it holds (the admin
 * DATABASE_URL, libpq's PG* variables, other roles' passwords, make's copy of its
 * command line) and the ops plumbing, plus the service's own connections
 * (DATABASE_URL as its runtime role, MIGRATION_DATABASE_URL as its schema's owner)
 * and the given variables.
 */
export function serviceProcessEnv(
  base: Env,
  connections: { DATABASE_URL: string; MIGRATION_DATABASE_URL: string },
  extra: Env = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(base)) {
    if (value === undefined) continue
    if (/^(DATABASE_URL|TEST_DATABASE_URL|MIGRATION_DATABASE_URL)$/.test(key)) continue
    // make passes its command line (DATABASE_URL=... included) down in these.
    if (/^(MAKEFLAGS|MFLAGS|MAKEOVERRIDES|MAKELEVEL)$/.test(key)) continue
    if (/^PG[A-Z]/.test(key) || key.endsWith('_DB_PASSWORD') || /^(OPS|DEV_DB)_/.test(key)) continue
    env[key] = value
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value
  Object.assign(env, connections)
  return env
}

/**
 * What `make dev` and `make run` add for local development, unless the caller's
 * environment sets them: DEV_SECRETS_DIR, the explicit switch that lets a service
 * create development-only secrets (auth's signing key, shared by every local
 * instance and kept across restarts), and no drain period on stop (nothing routes
 * traffic to a local instance, and Ctrl-C should not wait).
 */
export function developmentEnv(env: Env): Env {
  return {
    DEV_SECRETS_DIR: env.DEV_SECRETS_DIR || path.join(repoRoot(), '.dev', 'secrets'),
    SHUTDOWN_DRAIN_MS: env.SHUTDOWN_DRAIN_MS || '0',
  }
}

export interface ServiceProcess {
  child: ChildProcess
  /** Resolves once the process has exited and its output is drained. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGTERM (the service finishes in-flight requests and closes its pool), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function assertBuilt(service: ServiceInfo): void {
  if (!existsSync(service.entry)) {
    throw new Error(
      `${displayPath(service.entry)} is missing: build first (make build; make dev and make run build for you)`,
    )
  }
}

export function startServiceProcess(options: {
  service: ServiceInfo
  env: NodeJS.ProcessEnv
  onLine: (line: string) => void
}): ServiceProcess {
  assertBuilt(options.service)
  const [command, ...args] = SERVICE_START_COMMAND
  const child = spawn(command === 'node' ? process.execPath : command, args, {
    cwd: options.service.dir,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', options.onLine)
  }
  // 'close' (not 'exit') so the last lines the process wrote are printed before anyone reacts.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (error) => {
      options.onLine(`cannot start: ${error.message}`)
      resolve({ code: 1, signal: null })
    })
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  let stopping: ServiceProcess['exited'] | undefined
  return {
    child,
    exited,
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        try {
          return await exited
        } finally {
          clearTimeout(timer)
        }
      })()
      return stopping
    },
  }
}

export function describeExit(result: { code: number | null; signal: NodeJS.Signals | null }): string {
  return result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`
}
