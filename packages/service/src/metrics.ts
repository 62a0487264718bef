// /metrics in Prometheus' text format (prom-client): requests by route pattern and
// status (counted by request-metrics.ts, rendered by prom-client's registry), the
// pool, this build's migrations, the process. Internal: no auth, no rate
// limit, no request log line, hidden from the OpenAPI document; Prometheus scrapes
// the pod's port directly and the ingress never routes it.
//
// prom-client itself rather than fastify-metrics: that plugin's current majors
// peer on @platformatic/prom-client (14 needs Node 22.19; the tests run Node 20), it
// merges prom-client's global registry into every scrape (a registry per app needs
// its client object swapped), starts a timer per request in a second hook where
// Fastify's reply.elapsedTime already has the figure, and leaves unmatched URLs
// uncounted unless told otherwise. What it would save is a counter, a histogram and a hook.
import type { MigrateResult } from '@app/migrations'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { RequestMetrics } from './request-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServiceMetrics
  }
}

/** What pg.Pool counts, read at each scrape. */
export interface PoolCounts {
  readonly totalCount: number
  readonly idleCount: number
  readonly waitingCount: number
}

/** What @app/db's PipelinedQueries counts, read at each scrape. */
export interface PipelinedCounts {
  readonly openCount: number
  readonly inFlightCount: number
}

export interface ServiceMetrics {
  /** This app's registry (a service may add its own metrics to it); null with METRICS_ENABLED=false. */
  readonly registry: Registry | null
  /** Pool gauges and this build's migrations in the ledger, read at each scrape. */
  observeDatabase(source: {
    pool: PoolCounts
    /** The shared connections that pipeline reads outside a transaction (DB_PIPELINE_CONNECTIONS > 0). */
    pipelined?: PipelinedCounts
    maxConnections: number
    schema: string
    /** How many of this build's migrations the ledger holds (applied), of how many (total). */
    migrations: () => Promise<{ applied: number; total: number }>
  }): void
  /** What this process's own migration run at start did (MIGRATE_ON_START=true only). */
  recordMigrationRun(result: MigrateResult): void
}

export interface MetricsPluginOptions {
  /** METRICS_ENABLED: false serves no /metrics and adds no per-request hook. */
  enabled: boolean
}

/** The route label of a request no route matched (404s, scans): one series, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched'

// Services answer in 1-20 ms (argon2id logins ~15 ms); prom-client's default buckets start at 5 ms.
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** How long a scrape waits for the migrations ledger before showing the last counts read. */
const LEDGER_WAIT_MS = 1000

// Process metrics describe the process, not an app: collected once per process into
// a registry of their own. Each collectDefaultMetrics() call starts a GC observer and
// an event loop monitor that nothing stops, so one per app would pile up in tests.
let processRegistry: Registry | undefined
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

const disabled: ServiceMetrics = {
  registry: null,
  observeDatabase() {},
  recordMigrationRun() {},
}

export const metricsPlugin = fp(
  async (app: FastifyInstance, options: MetricsPluginOptions) => {
    if (!options.enabled) {
      app.decorate('metrics', disabled)
      return
    }
    // One registry per app: several apps in one process (the tests) never collide.
    const registry = new Registry()
    const requests = new RequestMetrics(
      { requests: 'http_requests_total', duration: 'http_request_duration_seconds' },
      {
        requests: 'HTTP requests answered, by method, route pattern (unmatched: no route) and status code',
        duration:
          'Time from receiving a request to the end of its answer, by method, route pattern and status code',
      },
      DURATION_BUCKETS,
    )
    requests.register(registry)
    const lastRun = {
      duration: new Gauge({
        name: 'db_migration_last_run_duration_seconds',
        help: "How long this process's migration run at start took (absent with MIGRATE_ON_START=false)",
        labelNames: ['schema'],
        registers: [registry],
      }),
      applied: new Gauge({
        name: 'db_migration_last_run_applied',
        help: "Migrations this process's run at start applied (0: they were applied already)",
        labelNames: ['schema'],
        registers: [registry],
      }),
    }

    app.decorate('metrics', {
      registry,
      observeDatabase(source) {
        const { pool } = source
        const poolGauge = (name: string, help: string, read: () => number) =>
          new Gauge({
            name,
            help,
            registers: [registry],
            collect() {
              this.set(read())
            },
          })
        poolGauge(
          'db_pool_connections_in_use',
          'Connections checked out of the pool (running a query or transaction)',
          () => pool.totalCount - pool.idleCount,
        )
        poolGauge('db_pool_connections_idle', 'Open connections waiting in the pool', () => pool.idleCount)
        poolGauge(
          'db_pool_waiting',
          'Queries and transactions waiting for a connection (all are in use and the pool is at its max)',
          () => pool.waitingCount,
        )
        poolGauge(
          'db_pool_connections_max',
          'The largest the pool grows (DB_POOL_MAX)',
          () => source.maxConnections,
        )
        const { pipelined } = source
        if (pipelined) {
          poolGauge(
            'db_pipeline_connections_open',
            'Shared connections open for reads outside a transaction (at most DB_PIPELINE_CONNECTIONS)',
            () => pipelined.openCount,
          )
          poolGauge(
            'db_pipeline_queries_in_flight',
            'Reads outside a transaction written to a shared connection and not yet answered',
            () => pipelined.inFlightCount,
          )
        }

        // The ledger is read through the request pool: a scrape waits for it at most
        // LEDGER_WAIT_MS, then shows the last counts read (when every connection is busy,
        // the pool figures above are what matters, and they must not time out with it).
        // One read in flight at a time; a failed read keeps the last counts too: the
        // ledger does not change while the database is unreachable.
        let counts: { applied: number; total: number } | undefined
        let reading: Promise<void> | undefined
        const readLedger = () => {
          reading ??= source
            .migrations()
            .then(
              (read) => {
                counts = read
              },
              (error: unknown) =>
                app.log.debug({ err: error }, 'metrics: the migrations ledger is unreadable'),
            )
            .finally(() => {
              reading = undefined
            })
          return reading
        }
        new Gauge({
          name: 'db_migrations',
          help: "This build's migrations by state: applied (in the schema's ledger) or pending (above 0: the instance stays unready); absent until the ledger was read once",
          labelNames: ['schema', 'state'],
          registers: [registry],
          async collect() {
            let timer: NodeJS.Timeout | undefined
            await Promise.race([
              readLedger(),
              new Promise((resolve) => {
                timer = setTimeout(resolve, LEDGER_WAIT_MS)
              }),
            ])
            clearTimeout(timer)
            if (!counts) return
            this.set({ schema: source.schema, state: 'applied' }, counts.applied)
            this.set({ schema: source.schema, state: 'pending' }, counts.total - counts.applied)
          },
        })
      },
      recordMigrationRun(result) {
        lastRun.duration.set({ schema: result.schema }, result.durationMs / 1000)
        lastRun.applied.set({ schema: result.schema }, result.applied.length)
      },
    } satisfies ServiceMetrics)

    // Callback style: it runs on every request, and an async hook costs a promise each.
    // Fastify's elapsedTime already spans onRequest to the answer's end: no timer of our own.
    app.addHook('onResponse', (request, reply, done) => {
      // Read once: Fastify builds a new object at every read of request.routeOptions.
      const route = request.routeOptions
      if ((route.config as { metrics?: boolean }).metrics !== false) {
        // The pattern (/auth/users/:id), never the URL: one series per route, not per id.
        requests.observe(
          request.method,
          route.url ?? UNMATCHED_ROUTE,
          reply.statusCode,
          reply.elapsedTime / 1000,
        )
      }
      done()
    })

    const scraped = [processMetrics(), registry]
    app.get(
      '/metrics',
      {
        schema: { hide: true },
        logLevel: 'warn',
        // Not logged per request (like the probes), and a scrape does not count itself.
        config: { requestLog: false, metrics: false },
      },
      async (_request, reply) => {
        const merged = Registry.merge(scraped)
        return reply.type(merged.contentType).send(await merged.metrics())
      },
    )
  },
  { name: 'metrics' },
)
