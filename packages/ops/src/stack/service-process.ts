// One service process for make dev and make run, started exactly as its container
// image starts it (@app/process: `node dist/server.js` in the service's folder),
// with an environment in which the only database credentials are the service's
// own two roles'.
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Env } from '@app/migrations/authoring'
import { repoRoot, type ServiceInfo } from '@app/migrations/authoring'
import { type RunningProcess, startServiceProcess as spawnService } from '@app/process'
import { displayPath } from '../display-path.js'

export { describeExit, SERVICE_START_COMMAND } from '@app/process'

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

export type ServiceProcess = RunningProcess

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
  return spawnService({ dir: options.service.dir, env: options.env, onLine: options.onLine })
}
