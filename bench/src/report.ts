// Renders the figures as markdown tables, each figure beside its reference and
// the issue's target.
import type { BreakdownFigure } from './breakdown.js'
import type { EndpointFigure } from './http.js'
import type { LayerFigure } from './layers.js'
import type { MetricsCostFigures } from './metrics-cost.js'
import type { MigrationFigures } from './migrations.js'
import type { RateLimitFigure, RateLimitFigures } from './rate-limit.js'
import type { StartupFigures } from './startup.js'
import type { LoginFigure, WriteFigure } from './writes.js'

// Columns padded to their widest cell: the layout the repository's formatter (Biome)
// gives markdown tables, so the README section a run rewrites stays formatted.
function tableOf(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows].map((row) => row.map(String))
  const widths = headers.map((_, column) => Math.max(3, ...cells.map((row) => [...row[column]!].length)))
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length)).join(' | ')} |`
  return [line(cells[0]!), line(widths.map((width) => '-'.repeat(width))), ...cells.slice(1).map(line)].join(
    '\n',
  )
}

const ratio = (value: number, reference: number) => (reference > 0 ? (value / reference).toFixed(2) : '-')
/** A fraction as a percentage: two significant digits however small, whole from 10 % up. */
function percentOf(value: number, reference: number): string {
  if (reference <= 0) return '-'
  const percent = (100 * value) / reference
  return `${percent >= 10 ? Math.round(percent) : percent.toPrecision(2)} %`
}
/** Milliseconds to about three significant digits. */
const ms = (value: number) =>
  `${value < 1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`
/** How many times the reference: whole from 10 up. */
function timesOf(value: number, reference: number): string {
  if (reference <= 0) return '-'
  const times = value / reference
  return `× ${times >= 10 ? Math.round(times) : times.toFixed(1)}`
}

export function renderReport(report: Record<string, unknown>): string {
  const parts: string[] = []
  const machine = report.machine as Record<string, string | number>
  parts.push(
    `Measured ${String(report.date).slice(0, 10)} on ${machine.cpus}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.postgres}.`,
  )

  const migrations = report.migrations as
    | {
        figures: MigrationFigures[]
        concurrent: { runners: number; migrations: number; ms: number; appliedTotal: number }
      }
    | undefined
  if (migrations) {
    parts.push('### Migration runner')
    parts.push(
      tableOf(
        [
          'migrations',
          'cold apply',
          'no-op check',
          'no-op, connected',
          'floor: connect + SELECT 1',
          "drizzle's migrate() no-op",
          'target',
        ],
        migrations.figures.map((f) => [
          f.migrations,
          `${f.coldMs} ms`,
          `${f.noopMs} ms`,
          `${f.noopConnectedMs} ms`,
          `${f.connectAndSelectMs} ms`,
          `${f.drizzleNoopMs} ms`,
          f.migrations === 100 ? 'no-op ≤ 5 ms' : '',
        ]),
      ),
    )
    const c = migrations.concurrent
    parts.push(
      `${c.runners} runners started at once on an empty database with ${c.migrations} migrations: all done in ${c.ms} ms, ${c.appliedTotal} migrations applied in total (each exactly once).`,
    )
  }

  const startup = report.startup as StartupFigures[] | undefined
  if (startup) {
    parts.push('### Service start: process launch to /readyz 200 (median of 5)')
    parts.push(
      tableOf(
        [
          'service',
          'empty database (applies migrations)',
          'migrations already applied',
          'floor: node + pg + http',
          'ratio to floor',
          'target',
        ],
        startup.map((s) => [
          s.service,
          `${s.emptyDbMs} ms`,
          `${s.migratedMs} ms`,
          `${s.floorMs} ms`,
          ratio(s.migratedMs, s.floorMs),
          'applied ≤ 300 ms',
        ]),
      ),
    )
  }
  const http = report.http as
    | {
        connections: number
        durationSec: number
        figures: EndpointFigure[]
        pgbenchTps?: number
        metrics?: MetricsCostFigures
        pooler?: { version: string } | { missing: string }
        write?: WriteFigure
        login?: LoginFigure
        layers?: LayerFigure[]
        layersRate?: number
      }
    | undefined
  if (http) {
    const reads = http.figures.filter((f) => f.raw && f.bare && !f.variant)
    const label = (f: EndpointFigure) => (f.variant ? `${f.endpoint}, ${f.variant}` : f.endpoint)
    parts.push(
      `### HTTP: ${http.connections} connections for ${http.durationSec} s (autocannon), production logging and /metrics on`,
    )
    parts.push(
      tableOf(
        [
          'endpoint',
          'req/s',
          'p99',
          'bare Fastify + pg, same SQL unprepared',
          'fraction of it (target ≥ 1.0)',
          'bare, prepared',
          'fraction of it (target ≥ 0.9)',
          'bare, prepared, pipelined as the services',
          'fraction of it',
          'raw: same SQL, plain pg pool, prepared',
          'fraction of raw',
          'non-2xx',
        ],
        http.figures.map((f) =>
          f.raw && f.bare && f.bareUnprepared
            ? [
                label(f),
                f.requestsPerSec,
                `${f.p99Ms} ms`,
                `${f.bareUnprepared.requestsPerSec} req/s`,
                ratio(f.requestsPerSec, f.bareUnprepared.requestsPerSec),
                `${f.bare.requestsPerSec} req/s`,
                ratio(f.requestsPerSec, f.bare.requestsPerSec),
                f.barePipelined ? `${f.barePipelined.requestsPerSec} req/s` : '-',
                f.barePipelined ? ratio(f.requestsPerSec, f.barePipelined.requestsPerSec) : '-',
                `${f.raw.queriesPerSec} q/s`,
                ratio(f.requestsPerSec, f.raw.queriesPerSec),
                f.non2xx + f.errors,
              ]
            : [
                label(f),
                f.requestsPerSec,
                `${f.p99Ms} ms`,
                '-',
                'target ≥ 40k req/s',
                '-',
                '-',
                '-',
                '-',
                '-',
                '-',
                f.non2xx + f.errors,
              ],
        ),
      ),
    )
    const inTurns = reads.filter((f) => f.slices)
    if (inTurns.length > 0) {
      const spread = (slices?: number[]) => (slices ? `${Math.min(...slices)}-${Math.max(...slices)}` : '-')
      parts.push(
        `Each DB-read endpoint ran in turns with its four references, ${inTurns[0]!.slices!.length} slices of ${http.durationSec / inTurns[0]!.slices!.length} s each, the order rotated every round, and each figure is over all its slices (the other rows ran alone, ${http.durationSec} s): a drift of the machine's speed weighs on all five alike. The services pipeline their reads outside a transaction on a shared connection (DB_PIPELINE_CONNECTIONS); the bare routes run a pg.Pool of 10, one query per connection at a time, but for "bare, prepared, pipelined as the services", the same route through the services' PipelinedQueries: the service against that one is what the service's own layers cost. The slices' req/s, endpoint / bare prepared / bare unprepared / bare pipelined: ${inTurns
          .map(
            (f) =>
              `${f.endpoint} ${spread(f.slices)} / ${spread(f.bare?.slices)} / ${spread(f.bareUnprepared?.slices)} / ${spread(f.barePipelined?.slices)}`,
          )
          .join('; ')}.`,
      )
    }
    for (const f of http.figures.filter((figure) => figure.floor)) {
      parts.push(
        `${f.endpoint} ran in turns with bare Fastify answering the same JSON (one route: no hooks, logging or headers of its own), ${f.slices?.length ?? 1} slices each: ${f.requestsPerSec} req/s against ${f.floor!.requestsPerSec}, ${ratio(f.requestsPerSec, f.floor!.requestsPerSec)} of it; CPU µs per request, the service ${f.cpu.serverUs} against bare's ${f.floor!.cpu.serverUs}, the load generator ${f.cpu.loadUs} against ${f.floor!.cpu.loadUs} (the service's answer carries its security, cache and request-id headers).`,
      )
    }
    if (http.pgbenchTps) {
      parts.push(
        `pgbench -S (select-only, ${http.connections} clients) on the same server: ${http.pgbenchTps} tps. Endpoints as a fraction of it: ${reads
          .map((f) => `${f.endpoint} ${ratio(f.requestsPerSec, http.pgbenchTps!)}`)
          .join(', ')}.`,
      )
    }
    if (http.pooler && 'missing' in http.pooler)
      parts.push(`Not measured through PgBouncer: ${http.pooler.missing}.`)
    parts.push(
      "#### Where the CPU goes: µs per request (per query for the raw pool), and the server's read and write system calls per request",
    )
    parts.push(
      tableOf(
        [
          'endpoint',
          'service',
          'service - bare (target ≤ 15)',
          'PostgreSQL',
          'PgBouncer',
          'load generator',
          'service syscalls',
          'bare Fastify, prepared',
          'its PostgreSQL',
          'its syscalls',
          'bare, unprepared',
          'its PostgreSQL',
          'bare, pipelined',
          'service - it',
          'its PostgreSQL',
          'raw pool client',
          'its PostgreSQL',
        ],
        http.figures.map((f) => [
          label(f),
          f.cpu.serverUs,
          f.bare ? f.cpu.serverUs - f.bare.cpu.serverUs : '-',
          f.cpu.postgresUs,
          f.poolerUs ?? '-',
          f.cpu.loadUs,
          f.cpu.serverSyscalls ?? '-',
          f.bare?.cpu.serverUs ?? '-',
          f.bare?.cpu.postgresUs ?? '-',
          f.bare?.cpu.serverSyscalls ?? '-',
          f.bareUnprepared?.cpu.serverUs ?? '-',
          f.bareUnprepared?.cpu.postgresUs ?? '-',
          f.barePipelined?.cpu.serverUs ?? '-',
          f.barePipelined ? f.cpu.serverUs - f.barePipelined.cpu.serverUs : '-',
          f.barePipelined?.cpu.postgresUs ?? '-',
          f.raw?.cpu.loadUs ?? '-',
          f.raw?.cpu.postgresUs ?? '-',
        ]),
      ),
    )
    if (http.layers) parts.push(...renderLayers(http.layers, http.durationSec, http.layersRate))
    if (http.write || http.login) parts.push(...renderWrites(http.write, http.login))
    if (http.metrics) parts.push(...renderMetricsCost(http.metrics, http.connections))
    parts.push('### Memory: RSS per service (target ≤ 100 MB idle, ≤ 150 MB under load)')
    parts.push(
      tableOf(
        ['endpoint under load', 'service', 'idle (started, migrated, no request yet)', 'peak under load'],
        http.figures.map((f) => [
          f.variant ? `${f.endpoint}, ${f.variant}` : f.endpoint,
          f.service,
          `${f.rssIdleMb} MB`,
          `${f.rssLoadMb} MB`,
        ]),
      ),
    )
  }
  const breakdown = report.breakdown as BreakdownFigure[] | undefined
  if (breakdown) {
    parts.push("### A DB read's CPU inside the service, part by part (in process, µs per request)")
    parts.push(
      tableOf(
        ['part', 'CPU µs'],
        breakdown.map((f) => [f.part, f.us]),
      ),
    )
    parts.push(
      "Through Fastify's inject() in the bench's process (no socket, no other process), the fastest of 20 blocks of 500 (taken in turns): the differences are the parts' costs, the rest each part alone. inject() itself costs more than a socket's request, so the first two rows are higher than the HTTP table's; their difference is what the service adds.",
    )
  }
  const rateLimit = report.rateLimit as RateLimitFigures | undefined
  if (rateLimit) parts.push(...renderRateLimit(rateLimit))
  return `${parts.join('\n\n')}\n`
}

function renderWrites(write: WriteFigure | undefined, login: LoginFigure | undefined): string[] {
  const rows = [write, login].filter((f): f is WriteFigure => f !== undefined)
  const parts = [
    '#### Writes and logins, whole: per second, and CPU µs per request',
    tableOf(
      [
        'operation',
        'connections',
        'per second',
        'p99',
        'service',
        'auth (user check)',
        'PostgreSQL',
        'load generator',
        'non-2xx',
      ],
      rows.map((f) => [
        f.endpoint,
        f.connections,
        f.requestsPerSec,
        `${f.p99Ms} ms`,
        f.cpu.serverUs,
        f.cpu.othersUs?.[0] ?? '-',
        f.cpu.postgresUs,
        f.cpu.loadUs,
        f.non2xx + f.errors,
      ]),
    ),
  ]
  if (write) {
    parts.push(
      "The write is one request as a client sends it: a new `Idempotency-Key` and a plan the user has no subscription to, billing asks auth whether the user exists (GET /auth/users/{id}: auth's CPU in its column), then one transaction claims the key, reads the plan, inserts the row and stores the answer.",
    )
  }
  if (login) {
    parts.push(
      `A login is the rate limit check, the user read, one argon2id verification and the token signed. argon2id alone with auth's parameters, ${login.argon2Concurrency} at once (AUTH_ARGON2_CONCURRENCY's default) in the bench's process: ${login.argon2PerSec} verifications/s, ${login.argon2Us} µs of CPU each; logins/s are ${ratio(login.requestsPerSec, login.argon2PerSec)} of it.`,
    )
  }
  return parts
}

function renderMetricsCost(metrics: MetricsCostFigures, connections: number): string[] {
  const s = metrics.scrape
  const m = metrics.inProcess
  return [
    `#### What /metrics costs: auth with it (the default) and with METRICS_ENABLED=false, ${connections} connections, 4 × ${metrics.durationSec} s in turns`,
    tableOf(
      [
        'endpoint',
        'req/s with',
        'req/s without',
        'with: fraction of without',
        'service µs/request with',
        'without',
        'cost per request',
        'p99 with',
        'p99 without',
      ],
      metrics.figures.map((f) => [
        f.endpoint,
        f.on.requestsPerSec,
        f.off.requestsPerSec,
        ratio(f.on.requestsPerSec, f.off.requestsPerSec),
        f.on.serviceUs,
        f.off.serviceUs,
        `${Math.round((f.on.serviceUs - f.off.serviceUs) * 10) / 10} µs`,
        `${f.on.p99Ms} ms`,
        `${f.off.p99Ms} ms`,
      ]),
    ),
    `In this process, through Fastify's inject (no socket, no other process; ${m.requests} requests a side in alternating blocks, the fastest block of each): ${m.endpoint.replace(' (inject)', '')} costs ${m.onUs} µs of CPU with metrics and ${m.offUs} µs without, so the per-request hook costs ${Math.round((m.onUs - m.offUs) * 100) / 100} µs on every route.`,
    `One scrape of auth's /metrics after those loads (${s.samples} samples, ${Math.round(s.bytes / 1024)} KiB, ${s.scrapes} in a row): ${s.ms} ms, ${s.serviceUs} µs of the service's CPU and ${s.postgresUs} µs of PostgreSQL's (the ledger read); at a 15 s scrape interval that is ${((s.serviceUs / 15e6) * 100).toPrecision(2)} % of one core.`,
  ]
}

function renderRateLimit(figures: RateLimitFigures): string[] {
  const login = (concurrency: number) =>
    figures.figures.find((f) => f.subject === 'login (argon2id verify)' && f.concurrency === concurrency)
  const cpuUs = (f: RateLimitFigure) => f.clientUs + f.serverUs
  const redis = 'missing' in figures.redis ? undefined : figures.redis.version
  const parts = [
    `### Login rate limit: one check beside one login (${figures.durationSec} s per row)`,
    tableOf(
      [
        'operation',
        'addresses',
        'concurrency',
        'per second',
        'p50',
        'p99',
        'CPU µs: client + server',
        "p50: % of a login's",
        "CPU: % of a login's",
        'per second: × logins/s',
      ],
      figures.figures.map((f) => {
        const reference = login(f.concurrency)
        return [
          f.subject,
          f.addresses,
          f.concurrency,
          f.perSec,
          ms(f.p50Ms),
          ms(f.p99Ms),
          f.serverUs ? `${f.clientUs} + ${f.serverUs}` : `${f.clientUs}`,
          reference ? percentOf(f.p50Ms, reference.p50Ms) : '-',
          reference ? percentOf(cpuUs(f), cpuUs(reference)) : '-',
          reference ? timesOf(f.perSec, reference.perSec) : '-',
        ]
      }),
    ),
    [
      `A check is one \`incr\` of @fastify/rate-limit's store contract: auth's PostgreSQL store`,
      `(one upsert in auth.login_rate_limits, a pg pool of ${figures.poolMax} as the service runs it, durable commits)`,
      redis
        ? `and the library's Redis store (ioredis, redis-server ${redis} without persistence).`
        : '(the Redis store was not measured: redis-server is missing).',
      `"Many" spreads the checks over 10,000 client addresses; "one" is a guesser's single address, every check`,
      `on one key (all counted, verified after the run). The UNLOGGED rows are the same store on the table made`,
      `UNLOGGED (no WAL flush at commit; not what auth runs). A login is one argon2id verification (${figures.argon2});`,
      `server CPU is PostgreSQL's (every postgres process on this machine) or redis-server's.`,
    ].join(' '),
  ]
  return parts
}

function renderLayers(layers: LayerFigure[], durationSec: number, rate?: number): string[] {
  const bare = layers.at(-1)!
  const load = rate ? `at ${rate} req/s (autocannon's overallRate)` : 'as fast as each answers'
  return [
    `#### What the service adds to a DB read, layer by layer: auth's GET /auth/users/{id}, the same 50 connections ${load}, in turns (${durationSec} s each in all)`,
    tableOf(
      [
        'auth',
        'req/s',
        'fraction of bare',
        'service µs/request',
        'minus the row below',
        'above bare',
        'PostgreSQL µs',
        'load generator µs',
        'syscalls',
      ],
      layers.map((layer, i) => [
        layer.label,
        layer.requestsPerSec,
        // At a fixed rate every row asks the same: a ratio would only show autocannon's overshoot.
        rate ? '-' : ratio(layer.requestsPerSec, bare.requestsPerSec),
        layer.serviceUs,
        i < layers.length - 1 ? layer.serviceUs - layers[i + 1]!.serviceUs : '-',
        layer === bare ? '-' : layer.serviceUs - bare.serviceUs,
        layer.postgresUs,
        layer.loadUs,
        layer.serviceSyscalls ?? '-',
      ]),
    ),
    'Each row is a process of its own (the first is the one measured above), loaded in turns with the others so a drift of the machine falls on all. The first two rows run the same build with the same settings: their difference is how far two identical processes differ in this run, and a difference between other rows no larger than that says nothing. The "minus the row below" of the rows without the log line, and without /metrics too, price the request log line (its formatting and its share of one write per event-loop turn to the log file) and /metrics\' per-request hook (with BENCH_BASELINE, a row for that build comes before them); the last service row\'s "above bare" is the rest: the token check, the id\'s validation, the response schema, the security, cache and request-id headers, Drizzle, and the kit\'s hooks, priced one by one in process in the breakdown below.',
  ]
}
