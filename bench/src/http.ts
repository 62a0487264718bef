// HTTP throughput of the DB-read endpoints and a trivial route (autocannon, 50
// connections), each beside the same SQL from a plain pg pool at the same
// concurrency and pgbench -S: the report shows every endpoint as a fraction of
// what the database itself serves here. RSS of each service idle and under load.
// The services run with /metrics on (the default), and what it costs is measured
// against auth with METRICS_ENABLED=false (metrics-cost.ts).
import { fileURLToPath } from 'node:url'
import { bootstrapServices, ownerUrl, runtimeUrl, type ServiceInfo } from '@app/migrations/authoring'
import { authSigningKeyEnv } from './auth-signing-key.js'
import { type CpuSplit, cpuPerUnit } from './cpu.js'
import { benchDatabase } from './database.js'
import { type HttpFigure, loadHttp, loadSql, pgbenchSelectOnly, sampleRss } from './load.js'
import { benchMetricsCost } from './metrics-cost.js'
import { type RunningService, startService } from './service-process.js'
import { round } from './timing.js'

export interface EndpointFigure extends HttpFigure {
  endpoint: string
  service: string
  /** CPU per request: the service, PostgreSQL, the load generator. */
  cpu: CpuSplit
  /** The same query from a plain pg pool at the same concurrency; absent for the trivial route. */
  raw?: { queriesPerSec: number; cpu: CpuSplit }
  /** The same query behind a bare Fastify route (no logging, validation or auth). */
  bare?: { requestsPerSec: number; cpu: CpuSplit }
  /** RSS right after start, before any request, and the peak under this load. */
  rssIdleMb: number
  rssLoadMb: number
}

const BARE_FASTIFY = fileURLToPath(new URL('./floor-fastify.mjs', import.meta.url))

/** The floor for a DB-read endpoint on this machine: the same SQL behind bare Fastify 5 + pg. */
async function benchBareFastify(
  sql: { url: string; text: string; values: unknown[] },
  options: { connections: number; durationSec: number; logFile: string },
) {
  const floor = await startService({
    entry: BARE_FASTIFY,
    name: 'bare-fastify',
    env: { DATABASE_URL: sql.url, FLOOR_SQL: sql.text, FLOOR_PARAMS: JSON.stringify(sql.values) },
    logFile: options.logFile,
  })
  try {
    const url = `${floor.baseUrl}/row/${sql.values[0]}`
    await loadHttp({ url, connections: options.connections, durationSec: 2 })
    const run = await cpuPerUnit(floor.child.pid, async () => {
      const figure = await loadHttp({
        url,
        connections: options.connections,
        durationSec: options.durationSec,
      })
      if (figure.non2xx + figure.errors > 0) throw new Error(`bare Fastify answered ${figure.non2xx} non-2xx`)
      return figure.requestsPerSec * options.durationSec
    })
    return { requestsPerSec: Math.round(run.units / options.durationSec), cpu: run.cpu }
  } finally {
    await floor.stop()
  }
}

async function call(base: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers)
  let body = init.body
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json')
    body = JSON.stringify(init.json)
  }
  const response = await fetch(`${base}${path}`, { ...init, headers, body })
  const text = await response.text()
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}

export async function benchHttp(
  adminUrl: string,
  services: ServiceInfo[],
  logFile: string,
  options: { connections?: number; durationSec?: number } = {},
) {
  const connections = options.connections ?? 50
  const durationSec = options.durationSec ?? 10
  const auth = services.find((s) => s.name === 'auth')!
  const billing = services.find((s) => s.name === 'billing')!
  const database = await benchDatabase(adminUrl, 'http')
  const running: RunningService[] = []
  try {
    await bootstrapServices(database.url, [auth, billing], {})
    const authUrl = runtimeUrl(database.url, auth, {})
    const billingUrl = runtimeUrl(database.url, billing, {})
    // Production settings: default logging (one line per request), default pool, /metrics on.
    const authEnv = {
      DATABASE_URL: authUrl,
      MIGRATION_DATABASE_URL: ownerUrl(database.url, auth, {}),
      AUTH_TOKEN_RATE_LIMIT_MAX: '1000',
      ...authSigningKeyEnv(),
    }
    const authProcess = await startService({ entry: auth.entry, name: 'auth', env: authEnv, logFile })
    running.push(authProcess)
    const billingProcess = await startService({
      entry: billing.entry,
      name: 'billing',
      env: {
        DATABASE_URL: billingUrl,
        MIGRATION_DATABASE_URL: ownerUrl(database.url, billing, {}),
        AUTH_URL: authProcess.baseUrl,
      },
      logFile,
    })
    running.push(billingProcess)

    // Idle: started, migrated, settled for a second, no request served yet.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const idleRss = new Map(running.map((service) => [service, round(service.rssMb())]))

    // One user, one plan, one subscription to read back.
    const user = await call(authProcess.baseUrl, '/auth/users', {
      method: 'POST',
      json: { username: 'bench_user', email: 'bench@example.com', password: 'correct horse battery staple' },
    })
    const token = await call(authProcess.baseUrl, '/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        username: 'bench_user',
        password: 'correct horse battery staple',
      }).toString(),
    })
    const authorization = `Bearer ${token.access_token}`
    const plan = await call(billingProcess.baseUrl, '/billing/subscriptions', {
      method: 'POST',
      headers: { authorization },
      json: { category: 'bench', priceMinor: 999, currency: 'EUR' },
    })
    const subscription = await call(billingProcess.baseUrl, '/billing/user-subscriptions', {
      method: 'POST',
      headers: { authorization },
      json: { subscriptionId: plan.id },
    })

    const targets = [
      {
        endpoint: 'GET /auth/users/{id}',
        service: authProcess,
        url: `${authProcess.baseUrl}/auth/users/${user.id}`,
        sql: {
          url: authUrl,
          text: 'SELECT id, username, email, disabled, created_at, updated_at FROM auth.users WHERE id = $1',
          values: [user.id],
        },
      },
      {
        endpoint: 'GET /billing/user-subscriptions/{id}',
        service: billingProcess,
        url: `${billingProcess.baseUrl}/billing/user-subscriptions/${subscription.id}`,
        sql: {
          url: billingUrl,
          text: 'SELECT * FROM billing.user_subscriptions WHERE id = $1 AND user_id = $2',
          values: [subscription.id, user.id],
        },
      },
      { endpoint: 'GET /healthz (trivial)', service: authProcess, url: `${authProcess.baseUrl}/healthz` },
    ]

    const figures: EndpointFigure[] = []
    for (const target of targets) {
      const headers = { authorization }
      const rssIdleMb = idleRss.get(target.service)!
      await loadHttp({ url: target.url, headers, connections, durationSec: 2 }) // warm-up (JIT, pool)
      const sampler = sampleRss(() => target.service.rssMb())
      let figure: HttpFigure | undefined
      const measured = await cpuPerUnit(target.service.child.pid, async () => {
        figure = await loadHttp({ url: target.url, headers, connections, durationSec })
        return figure.requestsPerSec * durationSec
      })
      const rssLoadMb = sampler.stop()
      let raw: EndpointFigure['raw']
      let bare: EndpointFigure['bare']
      if (target.sql) {
        const sql = target.sql
        const rawRun = await cpuPerUnit(undefined, async (done) => {
          const result = await loadSql({ ...sql, connections, poolSize: 10, durationSec, onLoadEnd: done })
          return result.queriesPerSec * durationSec
        })
        raw = { queriesPerSec: Math.round(rawRun.units / durationSec), cpu: rawRun.cpu }
        bare = await benchBareFastify(sql, { connections, durationSec, logFile })
      }
      figures.push({
        endpoint: target.endpoint,
        service: target.service.name,
        ...figure!,
        cpu: measured.cpu,
        raw,
        bare,
        rssIdleMb,
        rssLoadMb,
      })
    }

    // What /metrics costs per request: a second auth, its signing key shared (the
    // token verifies), with METRICS_ENABLED=false.
    const authWithoutMetrics = await startService({
      entry: auth.entry,
      name: 'auth (METRICS_ENABLED=false)',
      env: { ...authEnv, METRICS_ENABLED: 'false' },
      logFile,
    })
    running.push(authWithoutMetrics)
    const metrics = await benchMetricsCost({
      on: authProcess,
      off: authWithoutMetrics,
      targets: [
        { endpoint: 'GET /auth/users/{id}', path: `/auth/users/${user.id}` },
        { endpoint: 'GET /healthz (trivial)', path: '/healthz' },
      ],
      headers: { authorization },
      connections,
      durationSec,
      databaseUrl: authUrl,
      migrations: { schema: auth.schema, folder: auth.migrationsFolder },
    })

    for (const service of running) await service.stop()
    running.length = 0
    const pgbenchTps = pgbenchSelectOnly(database.url, connections, durationSec)
    return { connections, durationSec, figures, pgbenchTps, metrics }
  } finally {
    for (const service of running) await service.stop()
    await database.drop()
  }
}
