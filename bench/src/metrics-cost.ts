// What /metrics costs: the same endpoints on two auth processes of one build, one
// as it runs everywhere (METRICS_ENABLED=true, the default: every other HTTP figure
// is measured so) and one with METRICS_ENABLED=false, measured in turns (on, off,
// off, on) so a drift of the machine falls on both; and one scrape's cost.
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

export interface MetricsCostFigures {
  durationSec: number
  figures: MetricsCostFigure[]
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

export async function benchMetricsCost(options: {
  on: RunningService
  off: RunningService
  targets: { endpoint: string; path: string }[]
  headers: Record<string, string>
  connections: number
  durationSec: number
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

  // One scrape, as Prometheus makes it: sequential, every series the loads created.
  const scrapes = 200
  let bytes = 0
  let samples = 0
  let ms = 0
  const measured = await cpuPerUnit(on.child.pid, async () => {
    const started = performance.now()
    for (let i = 0; i < scrapes; i++) {
      const response = await fetch(`${on.baseUrl}/metrics`)
      const text = await response.text()
      if (response.status !== 200) throw new Error(`GET /metrics: ${response.status} ${text}`)
      bytes = Buffer.byteLength(text)
      samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length
    }
    ms = (performance.now() - started) / scrapes
    return scrapes
  })
  const scrape = {
    scrapes,
    ms: round(ms, 2),
    serviceUs: measured.cpu.serverUs,
    postgresUs: measured.cpu.postgresUs,
    bytes,
    samples,
  }
  return { durationSec, figures, scrape }
}
