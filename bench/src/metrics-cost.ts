// What /metrics costs: the same endpoints on two auth processes of one build, one
// as it runs everywhere (METRICS_ENABLED=true, the default: every other HTTP figure
// is measured so) and one with METRICS_ENABLED=false, measured in turns (on, off,
// off, on) so a drift of the machine falls on both; the same pair in this process
// through Fastify's inject (no network, no other process: a few µs stand out of the
// noise that three processes on two cores make); and one scrape's cost.
import http from 'node:http'
import { createServiceApp, type ServiceConfig } from '@app/service'
import { cpuPerUnit } from './cpu.js'
import { loadHttp } from './load.js'
import type { RunningService } from './service-process.js'
import { round } from './timing.js'

export interface MetricsSide {
  requestsPerSec: number
  p99Ms: number
  /** The service's CPU per request, in µs. */
  serviceUs: number
}

export interface MetricsCostFigure {
  endpoint: string
  on: MetricsSide
  off: MetricsSide
}

export interface ScrapeFigure {
  scrapes: number
  /** Wall time of one scrape, sequential, after the loads above filled the series. */
  ms: number
  /** CPU per scrape: the service, and PostgreSQL (the ledger read). */
  serviceUs: number
  postgresUs: number
  bytes: number
  samples: number
}

export interface InProcessFigure {
  endpoint: string
  requests: number
  /** This process's CPU per request (Fastify's whole pipeline, no socket), in µs: the fastest block's. */
  onUs: number
  offUs: number
}

export interface MetricsCostFigures {
  durationSec: number
  figures: MetricsCostFigure[]
  inProcess: InProcessFigure
  scrape: ScrapeFigure
}

interface Run {
  requests: number
  seconds: number
  p99Ms: number
  serviceUs: number
}

async function run(
  service: RunningService,
  url: string,
  options: { headers: Record<string, string>; connections: number; durationSec: number },
): Promise<Run> {
  let p99Ms = 0
  const measured = await cpuPerUnit(service.child.pid, async () => {
    const figure = await loadHttp({ url, ...options })
    if (figure.non2xx + figure.errors > 0)
      throw new Error(`${service.name} ${url}: ${figure.non2xx} non-2xx, ${figure.errors} errors`)
    p99Ms = figure.p99Ms
    return figure.requestsPerSec * options.durationSec
  })
  return { requests: measured.units, seconds: options.durationSec, p99Ms, serviceUs: measured.cpu.serverUs }
}

function combine(runs: Run[]): MetricsSide {
  const requests = runs.reduce((sum, r) => sum + r.requests, 0)
  return {
    requestsPerSec: Math.round(requests / runs.reduce((sum, r) => sum + r.seconds, 0)),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
    serviceUs: round(runs.reduce((sum, r) => sum + r.serviceUs * r.requests, 0) / requests),
  }
}

/**
 * GET /healthz through inject() on two apps the kit builds, metrics on and off, in
 * alternating blocks: the per-request hook's own cost, what every route pays.
 */
async function benchInProcess(options: {
  databaseUrl: string
  migrations: { schema: string; folder: string }
}): Promise<InProcessFigure> {
  const build = (metricsEnabled: boolean) => {
    const config: ServiceConfig = {
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      // The difference is the metrics hook: request log lines would be the same on both sides.
      logRequests: 'none',
      databaseUrl: options.databaseUrl,
      migrationDatabaseUrl: options.databaseUrl,
      migrateOnStart: false,
      migrationLock: { timeoutMs: 5000, retries: 4 },
      shutdownDrainMs: 0,
      dbPoolMax: 1,
      dbPipelineConnections: 0,
      dbPreparedStatements: true,
      dbConnectTimeoutMs: 1000,
      bodyLimit: 65536,
      trustProxy: false,
      metricsEnabled,
    }
    return createServiceApp({
      name: 'bench-metrics',
      config,
      migrations: options.migrations,
      logger: false,
      docs: { title: 'bench', version: '0', description: 'metrics cost' },
    })
  }
  const apps = { on: await build(true), off: await build(false) }
  try {
    const block = 2000
    const rounds = 20
    const perRequestUs = { on: [] as number[], off: [] as number[] }
    const runBlock = async (side: 'on' | 'off') => {
      const app = apps[side]
      const started = process.cpuUsage()
      for (let i = 0; i < block; i++) await app.inject('/healthz')
      const used = process.cpuUsage(started)
      return (used.user + used.system) / block
    }
    // Warm both (JIT), then alternate which side goes first in each round.
    for (const side of ['on', 'off', 'on', 'off'] as const) await runBlock(side)
    for (let i = 0; i < rounds; i++)
      for (const side of i % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const))
        perRequestUs[side].push(await runBlock(side))
    // The fastest block of each side: other processes on the machine only ever add
    // CPU time (shared caches and cores), so the least is nearest the code's own cost.
    return {
      endpoint: 'GET /healthz (inject)',
      requests: block * rounds,
      onUs: round(Math.min(...perRequestUs.on), 2),
      offUs: round(Math.min(...perRequestUs.off), 2),
    }
  } finally {
    await apps.on.close()
    await apps.off.close()
  }
}

export async function benchMetricsCost(options: {
  on: RunningService
  off: RunningService
  targets: { endpoint: string; path: string }[]
  headers: Record<string, string>
  connections: number
  durationSec: number
  /** For the in-process apps: a database URL (not queried by /healthz) and a migrations folder. */
  databaseUrl: string
  migrations: { schema: string; folder: string }
}): Promise<MetricsCostFigures> {
  const { on, off, headers, connections } = options
  // Each turn is half the HTTP section's duration: four turns per endpoint.
  const durationSec = Math.max(1, Math.round(options.durationSec / 2))
  const figures: MetricsCostFigure[] = []
  for (const target of options.targets) {
    const urlOf = (service: RunningService) => `${service.baseUrl}${target.path}`
    for (const service of [on, off])
      await loadHttp({ url: urlOf(service), headers, connections, durationSec: 2 })
    const runs = { on: [] as Run[], off: [] as Run[] }
    for (const side of ['on', 'off', 'off', 'on'] as const) {
      const service = side === 'on' ? on : off
      runs[side].push(await run(service, urlOf(service), { headers, connections, durationSec }))
    }
    figures.push({ endpoint: target.endpoint, on: combine(runs.on), off: combine(runs.off) })
  }
  const inProcess = await benchInProcess(options)

  // One scrape, as Prometheus makes it: sequential, every series the loads created.
  const scrapes = 200
  let bytes = 0
  let samples = 0
  let ms = 0
  // An agent of its own: fetch's shared pool may still hold a connection the setup
  // requests left idle past the server's keep-alive timeout, which the server closes.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const measured = await cpuPerUnit(on.child.pid, async () => {
    const started = performance.now()
    for (let i = 0; i < scrapes; i++) {
      const { status, text } = await get(`${on.baseUrl}/metrics`, agent)
      if (status !== 200) throw new Error(`GET /metrics: ${status} ${text}`)
      bytes = Buffer.byteLength(text)
      samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length
    }
    ms = (performance.now() - started) / scrapes
    return scrapes
  })
  agent.destroy()
  const scrape = {
    scrapes,
    ms: round(ms, 2),
    serviceUs: measured.cpu.serverUs,
    postgresUs: measured.cpu.postgresUs,
    bytes,
    samples,
  }
  return { durationSec, figures, inProcess, scrape }
}

function get(url: string, agent: http.Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          text += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
        response.on('error', reject)
      })
      .on('error', reject)
  })
}
