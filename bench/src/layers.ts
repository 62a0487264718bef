// What the service adds to a DB read, layer by layer, out of process and under load:
// auth's GET /auth/users/{id} as production runs it, then without its request log
// line (LOG_REQUESTS=none), then without /metrics too (METRICS_ENABLED=false), beside
// the bare Fastify + pg route with the same prepared statement, in turns (turns.ts).
// What is left between the last service row and bare is the token check, the id's
// validation, the response schema, the security and request-id headers, Drizzle and
// Fastify's hooks; the in-process breakdown (breakdown.ts) prices those one by one.
// With `rate` (`--rate`), every row is loaded at that fixed rate instead of as fast as it
// answers: at saturation a request's CPU depends on how many requests each wake-up finds,
// which differs between a faster and a slower process; at one rate every process sees the
// same arrivals, and what differs between rows is the code path.
import { httpParty, loadHttp } from './load.js'
import type { RunningService } from './service-process.js'
import { startService } from './service-process.js'
import { inTurns } from './turns.js'

export interface LayerFigure {
  label: string
  requestsPerSec: number
  serviceUs: number
  postgresUs: number
  serviceSyscalls?: number
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
}): Promise<LayerFigure[]> {
  const started: RunningService[] = []
  try {
    const variant = async (name: string, env: Record<string, string>) => {
      const service = await startService({
        entry: options.authEntry,
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
      ...(measured[i]!.cpu.serverSyscalls !== undefined
        ? { serviceSyscalls: measured[i]!.cpu.serverSyscalls }
        : {}),
    }))
  } finally {
    for (const service of started) await service.stop()
  }
}
