// Starts a service the way `make run` and the images do (@app/testkit's startService:
// `node dist/server.js`, its own role URL), and measures it from outside: launch to
// the first /readyz 200, and RSS. The log goes straight to a file: piped through
// this process it would cost the load generator CPU that the service's figures pay for.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { type ServiceProcess, startService as startTestService } from '@app/testkit'

export interface RunningService extends ServiceProcess {
  /** Launch to first /readyz 200, in ms. */
  readyMs: number
  rssMb(): number
}

export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) / 1024 : Number.NaN
}

export async function startService(options: {
  /** dist/server.js of a service, or a floor script: started and timed the same way. */
  entry: string
  name: string
  env: Record<string, string>
  logFile: string
  timeoutMs?: number
}): Promise<RunningService> {
  const dir = path.dirname(path.dirname(options.entry))
  const service = await startTestService({
    dir,
    script: path.relative(dir, options.entry),
    name: options.name,
    env: options.env,
    ...(options.env.PORT ? { port: Number(options.env.PORT) } : {}),
    logFile: options.logFile,
    // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the services under load.
    nodeArgs: process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [],
  })
  // Polled every 2 ms: the figure is a start time of a few hundred ms.
  const readyMs = await service.waitUntilReady({ timeoutMs: options.timeoutMs, intervalMs: 2 })
  return Object.assign(service, { readyMs, rssMb: () => rssMb(service.child.pid!) })
}
