// What the service adds to a DB read, layer by layer, out of process and under load:
// auth's GET /auth/users/{id} as production runs it (twice, in two processes: their
// difference is the table's noise), then without its request log
// line (LOG_REQUESTS=none), then without /metrics too (METRICS_ENABLED=false), beside
// the bare Fastify + pg route with the same prepared statement, in turns (turns.ts).
// What is left between the last service row and bare is the token check, the id's
// validation, the response schema, the security and request-id headers, Drizzle and
// Fastify's hooks; the in-process breakdown (breakdown.ts) prices those one by one.
// With `rate` (`--rate`), every row is loaded at that fixed rate instead of as fast as it
// answers: at saturation a request's CPU depends on how many requests each wake-up finds,
// which differs between a faster and a slower process; at one rate every process sees the
// same arrivals, and what differs between rows is the code path.
// With `baseline` (BENCH_BASELINE=<a checkout with its services built>), that build's auth
// runs as in production in the row after the twin's, in the same turns: an A/B of two commits'
// request paths, which two runs of the bench cannot give on a machine whose speed drifts.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { httpParty, loadHttp } from './load.js'
import type { RunningService } from './service-process.js'
import { startService } from './service-process.js'
import { inTurns } from './turns.js'

export interface LayerFigure {
  label: string
  requestsPerSec: number
  serviceUs: number
  postgresUs: number
  /** The load generator's CPU per request: what parsing the answer costs a client. */
  loadUs: number
  serviceSyscalls?: number
}

/** The checkout BENCH_BASELINE names and auth's entry in it, or undefined when it is unset. */
export function baselineAuth(
  env: NodeJS.ProcessEnv = process.env,
): { root: string; entry: string } | undefined {
  const root = env.BENCH_BASELINE
  if (!root) return undefined
  const entry = path.resolve(root, 'services/auth/dist/server.js')
  if (!existsSync(entry)) {
    throw new Error(`BENCH_BASELINE: no ${entry}; run \`make install build\` in that checkout first`)
  }
  return { root, entry }
}

export async function benchLayers(options: {
  production: RunningService
  authEntry: string
  authEnv: Record<string, string>
  path: string
  headers: Record<string, string>
  bare: { entry: string; env: Record<string, string>; path: string }
  logFile: string
  connections: number
  rounds: number
  sliceSec: number
  rate?: number
  /** auth in another checkout, run as in production beside this one. */
  baseline?: { root: string; entry: string }
}): Promise<LayerFigure[]> {
  const started: RunningService[] = []
  try {
    const variant = async (name: string, env: Record<string, string>, entry = options.authEntry) => {
      const service = await startService({
        entry,
        name,
        env: { ...options.authEnv, ...env },
        logFile: options.logFile,
      })
      started.push(service)
      return service
    }
    const rows = [
      {
        label: 'as in production',
        service: options.production,
        headers: options.headers,
        path: options.path,
      },
      // The same build and settings in a second process: how far two identical processes
      // differ in this run; a difference between other rows smaller than that reads nothing.
      {
        label: 'as in production, a second process (the noise between twins)',
        service: await variant('auth (twin)', {}),
        headers: options.headers,
        path: options.path,
      },
      ...(options.baseline
        ? [
            {
              label: `as in production, the build in BENCH_BASELINE (${options.baseline.root})`,
              service: await variant('auth (BENCH_BASELINE)', {}, options.baseline.entry),
              headers: options.headers,
              path: options.path,
            },
          ]
        : []),
      {
        label: 'without the request log line (LOG_REQUESTS=none)',
        service: await variant('auth (LOG_REQUESTS=none)', { LOG_REQUESTS: 'none' }),
        headers: options.headers,
        path: options.path,
      },
      {
        label: 'without the log line and /metrics (METRICS_ENABLED=false too)',
        service: await variant('auth (LOG_REQUESTS=none, METRICS_ENABLED=false)', {
          LOG_REQUESTS: 'none',
          METRICS_ENABLED: 'false',
        }),
        headers: options.headers,
        path: options.path,
      },
    ]
    const bare = await startService({
      entry: options.bare.entry,
      name: 'bare-fastify (layers)',
      env: options.bare.env,
      logFile: options.logFile,
    })
    started.push(bare)
    const all = [
      ...rows,
      { label: 'bare Fastify + pg, same SQL, prepared', service: bare, headers: {}, path: options.bare.path },
    ]
    for (const row of all) {
      await loadHttp({
        url: `${row.service.baseUrl}${row.path}`,
        headers: row.headers,
        connections: options.connections,
        durationSec: 2,
        overallRate: options.rate,
      })
    }
    const parties = all.map((row) =>
      httpParty(
        row.service.child.pid,
        {
          url: `${row.service.baseUrl}${row.path}`,
          headers: row.headers,
          connections: options.connections,
          overallRate: options.rate,
        },
        { refuseFailures: row.label },
      ),
    )
    const measured = await inTurns(parties, { rounds: options.rounds, sliceSec: options.sliceSec })
    return all.map((row, i) => ({
      label: row.label,
      requestsPerSec: measured[i]!.perSec,
      serviceUs: measured[i]!.cpu.serverUs,
      postgresUs: measured[i]!.cpu.postgresUs,
      loadUs: measured[i]!.cpu.loadUs,
      ...(measured[i]!.cpu.serverSyscalls !== undefined
        ? { serviceSyscalls: measured[i]!.cpu.serverSyscalls }
        : {}),
    }))
  } finally {
    for (const service of started) await service.stop()
  }
}
