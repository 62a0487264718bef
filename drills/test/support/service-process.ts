// The drills' services as real processes (@app/testkit's startService: `node
// dist/server.js` in the service's folder, every log line kept), given what `make
// run` gives them: DATABASE_URL as the runtime role, MIGRATION_DATABASE_URL as the
// schema's owner. A kill -9 counts as a fault in the run's figures.
import { type ServiceProcess, startService as startTestService } from '@app/testkit'
import { countFault } from './figures.js'

export { killLeftovers, type ServiceProcess } from '@app/testkit'

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
  const proc = await startTestService({
    name: options.name,
    dir: options.dir,
    port: options.port,
    env: {
      DATABASE_URL: options.databaseUrl,
      MIGRATION_DATABASE_URL: options.migrationDatabaseUrl,
      // Stop at once unless a drill measures the drain: nothing routes to these instances.
      SHUTDOWN_DRAIN_MS: '0',
      ...options.env,
    },
  })
  const kill = proc.kill
  proc.kill = () => {
    if (proc.running) countFault('kill -9')
    return kill()
  }
  return proc
}

/** Polls /readyz until 200, however long that takes (the drill's own timeout decides). */
export async function waitUntilReady(proc: ServiceProcess): Promise<void> {
  await proc.waitUntilReady({ timeoutMs: Number.POSITIVE_INFINITY })
}

export async function startReadyService(options: StartOptions): Promise<ServiceProcess> {
  const proc = await startService(options)
  await waitUntilReady(proc)
  return proc
}
