// HTTP throughput of the DB-read endpoints and a trivial route (autocannon, 50
// connections), each beside the same SQL from a plain pg pool at the same
// concurrency and pgbench -S: the report shows every endpoint as a fraction of
// what the database itself serves here. RSS of each service idle and under load.
// The services run with /metrics on (the default), and what it costs is measured
// against auth with METRICS_ENABLED=false (metrics-cost.ts).
import { fileURLToPath } from 'node:url'
import { bootstrapServices, ownerUrl, runtimeUrl, type ServiceInfo } from '@app/migrations/authoring'
import { authSigningKeyEnv } from './auth-signing-key.js'
import type { CpuSplit } from './cpu.js'
import { benchDatabase } from './database.js'
import { baselineAuth, benchLayers } from './layers.js'
import { type HttpFigure, httpParty, loadHttp, loadSql, pgbenchSelectOnly, sampleRss } from './load.js'
import { benchMetricsCost } from './metrics-cost.js'
import { startPgBouncer } from './pgbouncer.js'
import { type RunningService, startService } from './service-process.js'
import { round } from './timing.js'
import { inTurns, type Party, type TurnsFigure } from './turns.js'
import { benchLogin, benchWrite, insertPlans } from './writes.js'

export interface EndpointFigure extends HttpFigure {
  endpoint: string
  service: string
  /** CPU per request: the service, PostgreSQL, the load generator. */
  cpu: CpuSplit
  /** The same query from a plain pg pool at the same concurrency; absent for the trivial route. */
  raw?: { queriesPerSec: number; cpu: CpuSplit }
  /** The same query behind a bare Fastify route (no logging, validation or auth), prepared. */
  bare?: { requestsPerSec: number; cpu: CpuSplit; slices?: number[] }
  /** The same, sent unnamed: parsed and planned on every request. */
  bareUnprepared?: { requestsPerSec: number; cpu: CpuSplit; slices?: number[] }
  /** Bare prepared, its reads pipelined on shared connections as the services' are (DB_PIPELINE_CONNECTIONS). */
  barePipelined?: { requestsPerSec: number; cpu: CpuSplit; slices?: number[] }
  /** The trivial route's floor: bare Fastify answering the same JSON, in turns with it. */
  floor?: { requestsPerSec: number; cpu: CpuSplit }
  /** Measured in turns with its references: each slice's req/s, in the order run. */
  slices?: number[]
  /** How the service ran when not as in production's default (the references are the default row's). */
  variant?: string
  /** Through PgBouncer: its CPU per request. */
  poolerUs?: number
  /** RSS right after start, before any request, and the peak under this load. */
  rssIdleMb: number
  rssLoadMb: number
}

const ROUNDS = 5
const BARE_FASTIFY = fileURLToPath(new URL('./floor-fastify.mjs', import.meta.url))

/** The floor for a DB-read endpoint on this machine: the same SQL behind bare Fastify 5 + pg. */
function startBareFastify(
  sql: { url: string; text: string; values: unknown[] },
  options: { logFile: string; prepared: boolean; pipelined?: boolean },
) {
  return startService({
    entry: BARE_FASTIFY,
    name: options.pipelined
      ? 'bare-fastify (pipelined)'
      : options.prepared
        ? 'bare-fastify'
        : 'bare-fastify (unprepared)',
    env: {
      DATABASE_URL: sql.url,
      FLOOR_SQL: sql.text,
      FLOOR_PARAMS: JSON.stringify(sql.values),
      FLOOR_PREPARED: String(options.prepared),
      // The services' default DB_PIPELINE_CONNECTIONS.
      FLOOR_PIPELINE: options.pipelined ? '2' : '0',
    },
    logFile: options.logFile,
  })
}

/** The slices of one party as one figure: the rate over all of them, the worst p99, every failure. */
function httpFigureOf(turns: TurnsFigure<HttpFigure>): HttpFigure {
  return {
    requestsPerSec: turns.perSec,
    requests: turns.details.reduce((sum, figure) => sum + figure.requests, 0),
    p99Ms: Math.max(...turns.details.map((figure) => figure.p99Ms)),
    non2xx: turns.details.reduce((sum, figure) => sum + figure.non2xx, 0),
    errors: turns.details.reduce((sum, figure) => sum + figure.errors, 0),
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
  options: { connections?: number; durationSec?: number; rows?: string[]; layersRate?: number } = {},
) {
  // --rows auth,pgbouncer: only the rows whose label contains one of these (case-insensitive).
  const wanted = (label: string) =>
    !options.rows || options.rows.some((row) => label.toLowerCase().includes(row.toLowerCase()))
  // Checked before anything runs: a wrong BENCH_BASELINE fails now, not after the reads.
  const baseline = baselineAuth()
  const connections = options.connections ?? 50
  const durationSec = options.durationSec ?? 10
  // A DB-read endpoint and its references: ROUNDS slices each, durationSec in all.
  const sliceSec = Math.max(1, Math.round(durationSec / ROUNDS))
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
      // The check runs on every login as in production; the bench's logins all come from one address.
      AUTH_TOKEN_RATE_LIMIT_MAX: '1000000',
      ...authSigningKeyEnv(),
    }
    const authProcess = await startService({ entry: auth.entry, name: 'auth', env: authEnv, logFile })
    running.push(authProcess)
    const billingEnv = {
      DATABASE_URL: billingUrl,
      MIGRATION_DATABASE_URL: ownerUrl(database.url, billing, {}),
      AUTH_URL: authProcess.baseUrl,
    }
    const billingProcess = await startService({
      entry: billing.entry,
      name: 'billing',
      env: billingEnv,
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
    const [planId] = await insertPlans(ownerUrl(database.url, billing, {}), 1)
    const subscription = await call(billingProcess.baseUrl, '/billing/user-subscriptions', {
      method: 'POST',
      headers: { authorization },
      json: { subscriptionId: planId },
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
      {
        endpoint: 'GET /healthz (trivial)',
        service: authProcess,
        url: `${authProcess.baseUrl}/healthz`,
        floorPath: '/healthz',
      },
    ]

    const figures: EndpointFigure[] = []
    const measureTarget = async (
      target: (typeof targets)[number],
      variant?: { label: string; service: RunningService; url: string; pooler?: number; of: EndpointFigure },
    ) => {
      const service = variant?.service ?? target.service
      const url = variant?.url ?? target.url
      const headers = { authorization }
      const rssIdleMb = idleRss.get(service) ?? round(service.rssMb())
      const sampler = sampleRss(() => service.rssMb())
      const party = httpParty(
        service.child.pid,
        { url, headers, connections },
        variant?.pooler ? { otherPids: [variant.pooler] } : {},
      )
      let figure: HttpFigure
      let measured: { cpu: CpuSplit; slices?: number[] }
      let raw: EndpointFigure['raw'] = variant?.of.raw
      let bare: EndpointFigure['bare'] = variant?.of.bare
      let bareUnprepared: EndpointFigure['bareUnprepared'] = variant?.of.bareUnprepared
      let barePipelined: EndpointFigure['barePipelined'] = variant?.of.barePipelined
      let floorFigure: EndpointFigure['floor']
      if (target.sql && !variant) {
        // The endpoint and its four references in turns (turns.ts): ROUNDS slices each.
        const sql = target.sql
        const floors = [
          await startBareFastify(sql, { logFile, prepared: true }),
          await startBareFastify(sql, { logFile, prepared: false }),
          await startBareFastify(sql, { logFile, prepared: true, pipelined: true }),
        ]
        try {
          const floorUrl = (floor: RunningService) => `${floor.baseUrl}/row/${sql.values[0]}`
          // Warm-up (JIT, pools), each alone.
          await loadHttp({ url, headers, connections, durationSec: 2 })
          for (const floor of floors) await loadHttp({ url: floorUrl(floor), connections, durationSec: 2 })
          const rawParty: Party<undefined> = {
            async slice(seconds, done) {
              const result = await loadSql({
                ...sql,
                connections,
                poolSize: 10,
                durationSec: seconds,
                onLoadEnd: done,
              })
              return { units: result.queries, detail: undefined }
            },
          }
          const [ofService, ofBare, ofBareUnprepared, ofBarePipelined, ofRaw] = await inTurns<
            HttpFigure | undefined
          >(
            [
              party,
              ...floors.map((floor) =>
                httpParty(
                  floor.child.pid,
                  { url: floorUrl(floor), connections },
                  { refuseFailures: floor.name },
                ),
              ),
              rawParty,
            ],
            { rounds: ROUNDS, sliceSec },
          )
          figure = httpFigureOf(ofService as TurnsFigure<HttpFigure>)
          measured = { cpu: ofService!.cpu, slices: ofService!.slices }
          raw = { queriesPerSec: ofRaw!.perSec, cpu: ofRaw!.cpu }
          bare = { requestsPerSec: ofBare!.perSec, cpu: ofBare!.cpu, slices: ofBare!.slices }
          bareUnprepared = {
            requestsPerSec: ofBareUnprepared!.perSec,
            cpu: ofBareUnprepared!.cpu,
            slices: ofBareUnprepared!.slices,
          }
          barePipelined = {
            requestsPerSec: ofBarePipelined!.perSec,
            cpu: ofBarePipelined!.cpu,
            slices: ofBarePipelined!.slices,
          }
        } finally {
          for (const floor of floors) await floor.stop()
        }
      } else if (target.floorPath && !variant) {
        // The trivial route and bare Fastify answering the same JSON, in turns: whether a
        // figure under its target is the service or the machine.
        const floor = await startBareFastify(
          { url: authUrl, text: 'SELECT 1', values: [] },
          { logFile, prepared: true },
        )
        try {
          const floorUrl = `${floor.baseUrl}${target.floorPath}`
          await loadHttp({ url, headers, connections, durationSec: 2 }) // warm-up (JIT)
          await loadHttp({ url: floorUrl, connections, durationSec: 2 })
          const [ofService, ofFloor] = await inTurns<HttpFigure>(
            [
              party,
              httpParty(floor.child.pid, { url: floorUrl, connections }, { refuseFailures: floor.name }),
            ],
            { rounds: ROUNDS, sliceSec },
          )
          figure = httpFigureOf(ofService!)
          measured = { cpu: ofService!.cpu, slices: ofService!.slices }
          floorFigure = { requestsPerSec: ofFloor!.perSec, cpu: ofFloor!.cpu }
        } finally {
          await floor.stop()
        }
      } else {
        await loadHttp({ url, headers, connections, durationSec: 2 }) // warm-up (JIT, pool)
        const [alone] = await inTurns([party], { rounds: 1, sliceSec: durationSec })
        figure = httpFigureOf(alone!)
        measured = { cpu: alone!.cpu }
      }
      const rssLoadMb = sampler.stop()
      const result: EndpointFigure = {
        endpoint: target.endpoint,
        service: service.name,
        ...figure,
        cpu: measured.cpu,
        ...(measured.slices ? { slices: measured.slices } : {}),
        raw,
        bare,
        bareUnprepared,
        barePipelined,
        ...(floorFigure ? { floor: floorFigure } : {}),
        ...(variant ? { variant: variant.label } : {}),
        ...(variant?.pooler ? { poolerUs: measured.cpu.othersUs?.[0] } : {}),
        rssIdleMb,
        rssLoadMb,
      }
      figures.push(result)
      return result
    }
    const measuredReads = new Map<string, EndpointFigure>()
    for (const target of targets) {
      if (!wanted(target.endpoint)) continue
      const figure = await measureTarget(target)
      if (target.sql) measuredReads.set(target.endpoint, figure)
    }

    // The DB-read endpoints again, as a service runs with DB_PREPARED_STATEMENTS=false,
    // straight to PostgreSQL and then through PgBouncer in transaction mode (the
    // setting docs/production.md prescribes for PgBouncer < 1.21): the pooler hop's cost.
    const unpreparedEnv = { DB_PREPARED_STATEMENTS: 'false' }
    const variants = async (
      label: string,
      databaseUrls: { auth: string; billing: string },
      pooler?: number,
    ) => {
      const readTargets = targets.filter((t) => t.sql && measuredReads.has(t.endpoint) && wanted(label))
      if (readTargets.length === 0) return
      const pair = {
        auth: await startService({
          entry: auth.entry,
          name: `auth (${label})`,
          env: { ...authEnv, ...unpreparedEnv, DATABASE_URL: databaseUrls.auth },
          logFile,
        }),
        billing: await startService({
          entry: billing.entry,
          name: `billing (${label})`,
          env: { ...billingEnv, ...unpreparedEnv, DATABASE_URL: databaseUrls.billing },
          logFile,
        }),
      }
      try {
        for (const target of readTargets) {
          const service = target.service === authProcess ? pair.auth : pair.billing
          await measureTarget(target, {
            label,
            service,
            url: target.url.replace(target.service.baseUrl, service.baseUrl),
            pooler,
            of: measuredReads.get(target.endpoint)!,
          })
        }
      } finally {
        await pair.auth.stop()
        await pair.billing.stop()
      }
    }
    await variants('DB_PREPARED_STATEMENTS=false', { auth: authUrl, billing: billingUrl })
    let pooler: { version: string } | { missing: string } | undefined
    if (wanted('PgBouncer') && measuredReads.size > 0) {
      const pgbouncer = await startPgBouncer({ roleUrls: [authUrl, billingUrl], poolSize: 10, logFile })
      if ('missing' in pgbouncer) {
        console.error(`bench: ${pgbouncer.missing}`)
        pooler = pgbouncer
      } else {
        pooler = { version: pgbouncer.version }
        try {
          await variants(
            `PgBouncer ${pgbouncer.version}, transaction mode, DB_PREPARED_STATEMENTS=false`,
            { auth: pgbouncer.through(authUrl), billing: pgbouncer.through(billingUrl) },
            pgbouncer.pid,
          )
        } finally {
          await pgbouncer.stop()
        }
      }
    }

    // What the service adds to a DB read, layer by layer, in turns (layers.ts).
    const layers =
      wanted('layers') && measuredReads.has('GET /auth/users/{id}')
        ? await benchLayers({
            production: authProcess,
            authEntry: auth.entry,
            authEnv,
            path: `/auth/users/${user.id}`,
            headers: { authorization },
            bare: {
              entry: BARE_FASTIFY,
              env: {
                DATABASE_URL: authUrl,
                FLOOR_SQL: targets[0]!.sql!.text,
                FLOOR_PARAMS: JSON.stringify(targets[0]!.sql!.values),
                FLOOR_PREPARED: 'true',
              },
              path: `/row/${user.id}`,
            },
            logFile,
            connections,
            rounds: ROUNDS,
            sliceSec,
            rate: options.layersRate,
            baseline,
          })
        : undefined

    // The write path and the login, whole.
    const write = wanted('POST /billing/user-subscriptions')
      ? await benchWrite({
          billing: billingProcess,
          auth: authProcess,
          billingOwnerUrl: ownerUrl(database.url, billing, {}),
          authorization,
          connections,
          durationSec,
        })
      : undefined
    const login = wanted('POST /auth/token')
      ? await benchLogin({
          auth: authProcess,
          username: 'bench_user',
          password: 'correct horse battery staple',
          durationSec,
        })
      : undefined

    // What /metrics costs per request: a second auth, its signing key shared (the
    // token verifies), with METRICS_ENABLED=false.
    const metrics = wanted('/metrics cost') ? await metricsCost() : undefined
    async function metricsCost() {
      const authWithoutMetrics = await startService({
        entry: auth.entry,
        name: 'auth (METRICS_ENABLED=false)',
        env: { ...authEnv, METRICS_ENABLED: 'false' },
        logFile,
      })
      running.push(authWithoutMetrics)
      return benchMetricsCost({
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
    }

    for (const service of running) await service.stop()
    running.length = 0
    const pgbenchTps = wanted('pgbench')
      ? pgbenchSelectOnly(database.url, connections, durationSec)
      : undefined
    return {
      connections,
      durationSec,
      figures,
      pgbenchTps,
      metrics,
      pooler,
      write,
      login,
      layers,
      layersRate: options.layersRate,
    }
  } finally {
    for (const service of running) await service.stop()
    await database.drop()
  }
}
