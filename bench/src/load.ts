// Load generators for one figure each: autocannon against an HTTP endpoint, the
// same SQL from a plain pg pool at the same concurrency (the database's own limit
// for that query here), and pgbench -S (PostgreSQL's own read-only benchmark).
import { spawnSync } from 'node:child_process'
import autocannon from 'autocannon'
import pg from 'pg'
import type { Party } from './turns.js'

export interface HttpFigure {
  requestsPerSec: number
  /** Requests answered in the run. */
  requests: number
  p99Ms: number
  non2xx: number
  errors: number
}

export async function loadHttp(options: {
  url: string
  headers?: Record<string, string>
  connections: number
  durationSec: number
  /** Requests per second over all connections (autocannon's overallRate); as fast as it answers when absent. */
  overallRate?: number
  method?: 'GET' | 'POST'
  body?: string
  /** Called before each request: what differs per request (a new Idempotency-Key, a body). */
  perRequest?: () => { headers?: Record<string, string>; body?: string }
}): Promise<HttpFigure> {
  const perRequest = options.perRequest
  const result = await autocannon({
    url: options.url,
    headers: options.headers,
    // Only when given: autocannon takes an undefined method for an unsupported one.
    ...(options.method ? { method: options.method } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    connections: options.connections,
    duration: options.durationSec,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    ...(perRequest
      ? {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => {
                const next = perRequest()
                return {
                  ...request,
                  headers: { ...request.headers, ...next.headers },
                  ...(next.body !== undefined ? { body: next.body } : {}),
                }
              },
            },
          ],
        }
      : {}),
  })
  return {
    requestsPerSec: Math.round(result.requests.average),
    requests: result.requests.total,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }
}

/**
 * autocannon against one URL as a party of inTurns (turns.ts), one slice at a time.
 * With `refuseFailures` (a name for the message), a slice with a non-2xx answer or an
 * error ends the run: a reference must not be measured answering errors.
 */
export function httpParty(
  pid: number | undefined,
  load: { url: string; headers?: Record<string, string>; connections: number; overallRate?: number },
  options: { otherPids?: number[]; refuseFailures?: string } = {},
): Party<HttpFigure> {
  return {
    pid,
    otherPids: options.otherPids ?? [],
    async slice(seconds) {
      const figure = await loadHttp({ ...load, durationSec: seconds })
      if (options.refuseFailures && figure.non2xx + figure.errors > 0) {
        throw new Error(
          `${options.refuseFailures} answered ${figure.non2xx} non-2xx, ${figure.errors} errors`,
        )
      }
      return { units: figure.requests, detail: figure }
    },
  }
}

/** `connections` workers issuing the query back to back through a pool of `poolSize`. */
export async function loadSql(options: {
  url: string
  text: string
  values: unknown[]
  /** Rows as arrays, as Drizzle asks for them; objects by default. */
  rowMode?: 'array'
  /** The pool's client class; pg.Client by default. */
  Client?: typeof pg.Client
  connections: number
  poolSize: number
  durationSec: number
  /** Called when the load is over, before the pool's connections close. */
  onLoadEnd?: () => void
}): Promise<{ queriesPerSec: number; queries: number }> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    ...(options.Client ? { Client: options.Client } : {}),
  })
  // pool.end() resolves before its connections' backends have exited: a database dropped
  // WITH (FORCE) right after ends them, and pg reports that on the pool. A query's own
  // failure rejects the query instead, so nothing the load measures is hidden.
  pool.on('error', () => {})
  const query = {
    name: 'bench_raw',
    text: options.text,
    values: options.values,
    ...(options.rowMode ? { rowMode: options.rowMode } : {}),
  }
  await pool.query(query)
  let count = 0
  const deadline = performance.now() + options.durationSec * 1000
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (performance.now() < deadline) {
        await pool.query(query)
        count++
      }
    }),
  )
  options.onLoadEnd?.()
  await pool.end()
  return { queriesPerSec: Math.round(count / options.durationSec), queries: count }
}

/** pgbench -S (select-only) tps, or undefined when pgbench is not installed. */
export function pgbenchSelectOnly(url: string, clients: number, durationSec: number): number | undefined {
  const which = spawnSync('pgbench', ['--version'], { encoding: 'utf8' })
  if (which.status !== 0) return undefined
  const init = spawnSync('pgbench', ['-i', '-s', '1', '-q', url], { encoding: 'utf8' })
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`)
  const run = spawnSync(
    'pgbench',
    ['-S', '-c', String(clients), '-j', '2', '-T', String(durationSec), '-n', url],
    {
      encoding: 'utf8',
    },
  )
  const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout)
  if (!match) throw new Error(`pgbench output not understood: ${run.stdout}${run.stderr}`)
  return Math.round(Number(match[1]))
}

/** Samples a process's RSS every 200 ms until stopped; returns the peak in MB. */
export function sampleRss(read: () => number): { stop(): number } {
  let peak = read()
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, read())
    } catch {}
  }, 200)
  return {
    stop() {
      clearInterval(timer)
      return Math.round(peak)
    },
  }
}
