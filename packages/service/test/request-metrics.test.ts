// RequestMetrics renders exactly what prom-client's Counter and Histogram render for
// the same requests: the exposition Prometheus scrapes did not change when the
// per-request counting left prom-client (request-metrics.ts).
import { Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, test } from 'vitest'
import { RequestMetrics } from '../src/request-metrics.js'

const NAMES = { requests: 'http_requests_total', duration: 'http_request_duration_seconds' }
const HELP = { requests: 'requests "answered"\\ by route', duration: 'time to answer' }
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const REQUESTS: [method: string, route: string, status: number, seconds: number][] = [
  ['GET', '/auth/users/:id', 200, 0.0004],
  ['GET', '/auth/users/:id', 200, 0.001], // on a bound: counted in that bucket (le)
  ['GET', '/auth/users/:id', 200, 0.0031],
  ['GET', '/auth/users/:id', 404, 0.0021],
  ['HEAD', '/auth/users/:id', 200, 0.0002],
  ['POST', '/auth/token', 201, 0.0153],
  ['POST', '/auth/token', 429, 0.0007],
  ['GET', 'unmatched', 404, 0.0001],
  ['GET', '/slow', 200, 12.5], // above every bound: +Inf only
]

function withPromClient() {
  const registry = new Registry()
  const labelNames = ['method', 'route', 'status_code']
  const counter = new Counter({
    name: NAMES.requests,
    help: HELP.requests,
    labelNames,
    registers: [registry],
  })
  const histogram = new Histogram({
    name: NAMES.duration,
    help: HELP.duration,
    labelNames,
    buckets: BOUNDS,
    registers: [registry],
  })
  for (const [method, route, status_code, seconds] of REQUESTS) {
    counter.inc({ method, route, status_code })
    histogram.observe({ method, route, status_code }, seconds)
  }
  return registry
}

function withRequestMetrics() {
  const registry = new Registry()
  const metrics = new RequestMetrics(NAMES, HELP, BOUNDS)
  metrics.register(registry)
  for (const [method, route, status, seconds] of REQUESTS) metrics.observe(method, route, status, seconds)
  return { registry, metrics }
}

describe('RequestMetrics', () => {
  test("renders the same text as prom-client's Counter and Histogram for the same requests", async () => {
    const expected = await withPromClient().metrics()
    const { registry } = withRequestMetrics()
    expect(await registry.metrics()).toBe(expected)
    expect(expected).toContain(
      'http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/slow",status_code="200"} 1',
    )
  })

  test('the same through Registry.merge (what /metrics serves)', async () => {
    const { registry } = withRequestMetrics()
    const reference = withPromClient()
    expect(await Registry.merge([registry]).metrics()).toBe(await Registry.merge([reference]).metrics())
  })

  test('registry.resetMetrics() empties the series, as it does prom-client’s', async () => {
    const { registry } = withRequestMetrics()
    const reference = withPromClient()
    registry.resetMetrics()
    reference.resetMetrics()
    expect(await registry.metrics()).toBe(await reference.metrics())
  })
})
