// Steady, mixed traffic for the topology drills: an open loop that starts requests
// at a fixed rate whatever the answers take (as real clients do), each drawn from a
// weighted mix, until stopped. Every outcome is kept: a failure is a connection
// error, a 5xx, or any status the request did not expect; 429s are counted apart.
import { figures } from './figures.js'

export interface LoadRequest {
  name: string
  weight: number
  /** Statuses that count as success, e.g. [200] or [201]. */
  expect: number[]
  /** The answer's status, and its error code when it has one (the services' `code`). */
  run(): Promise<{ status: number; code?: string }>
}

export interface LoadFailure {
  name: string
  outcome: string
  atMs: number
}

export interface LoadReport {
  total: number
  ok: number
  rateLimited: number
  failures: LoadFailure[]
  byName: Record<string, Record<string, number>>
  p50Ms: number
  p99Ms: number
  maxMs: number
  durationMs: number
}

export interface RunningLoad {
  /** Outcomes so far (the drill may look while it runs). */
  readonly failures: LoadFailure[]
  readonly total: number
  /** Stops starting requests, waits for those in flight, and reports. */
  stop(): Promise<LoadReport>
}

export function steadyLoad(options: { ratePerSecond: number; mix: LoadRequest[] }): RunningLoad {
  const totalWeight = options.mix.reduce((sum, r) => sum + r.weight, 0)
  const pick = () => {
    let x = Math.random() * totalWeight
    for (const request of options.mix) {
      x -= request.weight
      if (x < 0) return request
    }
    return options.mix.at(-1)!
  }
  const started = performance.now()
  const latencies: number[] = []
  const failures: LoadFailure[] = []
  const byName: Record<string, Record<string, number>> = {}
  const inFlight = new Set<Promise<void>>()
  let ok = 0
  let rateLimited = 0
  let total = 0

  const record = (name: string, outcome: string) => {
    byName[name] ??= {}
    byName[name][outcome] = (byName[name][outcome] ?? 0) + 1
  }
  const fire = () => {
    const request = pick()
    total += 1
    figures.requests += 1
    const t0 = performance.now()
    const done = request
      .run()
      .then(
        ({ status }) => {
          record(request.name, String(status))
          if (request.expect.includes(status)) ok += 1
          else if (status === 429) rateLimited += 1
          else
            failures.push({ name: request.name, outcome: `HTTP ${status}`, atMs: Math.round(t0 - started) })
        },
        (error: unknown) => {
          const cause = (error as { cause?: { code?: string; message?: string } }).cause
          const outcome = cause?.code ? `${cause.code} (${cause.message})` : (cause?.message ?? String(error))
          record(request.name, outcome)
          failures.push({ name: request.name, outcome, atMs: Math.round(t0 - started) })
        },
      )
      .finally(() => {
        latencies.push(performance.now() - t0)
        inFlight.delete(done)
      })
    inFlight.add(done)
  }

  // Ticks of 20 ms, each starting the requests due by then: the rate holds even when
  // a timer fires late on a busy machine.
  const intervalMs = 20
  let due = 0
  const timer = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000
    const shouldHave = Math.floor(elapsed * options.ratePerSecond)
    for (; due < shouldHave; due++) fire()
  }, intervalMs)

  return {
    failures,
    get total() {
      return total
    },
    async stop() {
      clearInterval(timer)
      const durationMs = performance.now() - started
      while (inFlight.size > 0) await Promise.all([...inFlight])
      const sorted = [...latencies].sort((a, b) => a - b)
      const at = (q: number) =>
        Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
      return {
        total,
        ok,
        rateLimited,
        failures,
        byName,
        p50Ms: at(0.5),
        p99Ms: at(0.99),
        maxMs: Math.round(sorted.at(-1) ?? 0),
        durationMs: Math.round(durationMs),
      }
    },
  }
}

/** One line for the drill's output. */
export function describeLoad(report: LoadReport): string {
  const rate = Math.round(report.total / (report.durationMs / 1000))
  return `${report.total} requests in ${(report.durationMs / 1000).toFixed(1)} s (${rate}/s): ${report.ok} ok, ${report.failures.length} failed, ${report.rateLimited} rate limited; latency p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms, max ${report.maxMs} ms`
}
