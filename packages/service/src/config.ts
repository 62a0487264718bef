// Configuration comes from the environment, validated once at startup against a
// TypeBox schema. Every problem is reported with the variable's name and what was
// expected, and the process never starts half-configured.
//
// Validated by TypeBox's own checker (typebox/value), which walks the schema, rather
// than by Ajv, which first generates and compiles a validator: for a check that runs
// once, the compile was all the cost: 32 ms of auth's start on a quick machine, 110 on
// a slow one (bench/README.md, issue 16's fifth pass). The messages are the same JSON
// Schema ones ("must be integer", "must match pattern").
import { redactUrl } from '@app/db'
import { type Static, type TObject, type TProperties, type TSchema, Type } from 'typebox'
import { Value } from 'typebox/value'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

/** Variables that services no longer read, with what replaced them: set, they stop startup. */
const RETIRED: Record<string, string> = {
  DB_STATEMENT_TIMEOUT_MS:
    "is no longer read: the statement timeout of requests is the runtime role's own setting, so that it holds through a transaction pooler (set at bootstrap from <SERVICE>_STATEMENT_TIMEOUT, or ALTER ROLE <service>_app IN DATABASE <db> SET statement_timeout = '5s'); unset it",
}

/** Reads the schema's variables (and only those) from `env`; empty strings count as unset. */
export function loadEnv<T extends TObject>(schema: T, env: Record<string, string | undefined>): Static<T> {
  const input: Record<string, unknown> = {}
  for (const [name, property] of Object.entries(schema.properties)) {
    const value = env[name]
    if (value !== undefined && value !== '') input[name] = coerce(property, value)
  }
  const retired = Object.entries(RETIRED)
    .filter(([name]) => env[name] !== undefined && env[name] !== '')
    .map(([name, why]) => `${name} ${why}`)
  const values = Value.Default(schema, input)
  if (!Value.Check(schema, values) || retired.length > 0) {
    const problems = Value.Errors(schema, values).flatMap((issue) => {
      if (issue.keyword === 'required') {
        const missing = (issue.params as { requiredProperties: string[] }).requiredProperties
        return missing.map((name) => `${name} is required${describe(schema.properties[name])}`)
      }
      const name = issue.instancePath.replace(/^\//, '')
      return [`${name} ${issue.message} (got ${shown(name, env[name])})${describe(schema.properties[name])}`]
    })
    throw new ConfigError([...problems, ...retired])
  }
  return values as Static<T>
}

/**
 * A variable's text as the type its schema declares, as Ajv's coerceTypes does it:
 * a number only from text that is wholly one ("5.5" stays text for an integer, and
 * fails as "must be integer"; TypeBox's own Value.Convert would truncate it to 5), a
 * boolean only from "true" or "false". Anything else stays text for the check to name.
 */
function coerce(property: TSchema, value: string): unknown {
  const type = (property as { type?: unknown }).type
  if ((type === 'integer' || type === 'number') && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value)
  }
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true'
  return value
}

/**
 * A rejected value as the error shows it. A URL's password never appears: a URL
 * with a host is shown with the password masked, anything else not at all (where
 * its secret part starts cannot be known).
 */
function shown(name: string, value: string | undefined): string {
  if (value === undefined || !name.endsWith('_URL')) return JSON.stringify(value)
  return URL.canParse(value) && new URL(value).hostname
    ? JSON.stringify(redactUrl(value))
    : 'a value that is not a URL with a host; not shown, it may hold a password'
}

function describe(property: unknown): string {
  const description = (property as { description?: string } | undefined)?.description
  return description ? `: ${description}` : ''
}

/** The variables every service reads. */
export function serviceEnv(defaults: { port: number }) {
  return {
    DATABASE_URL: Type.String({
      pattern: '^postgres(ql)?://',
      description:
        "the connection requests use, as the service's runtime role (<service>_app: DML only), postgres://<role>:<password>@host:port/database; may point at a transaction-mode pooler",
    }),
    MIGRATION_DATABASE_URL: Type.Optional(
      Type.String({
        pattern: '^postgres(ql)?://',
        description:
          "the connection migrations use, as the schema's owner role (<service>), directly to PostgreSQL (default: DATABASE_URL)",
      }),
    ),
    MIGRATE_ON_START: Type.Boolean({
      default: true,
      description:
        'true: apply pending migrations at start; false: wait until they are applied (by a pre-deploy job running dist/migrate.js)',
    }),
    MIGRATION_LOCK_TIMEOUT_MS: Type.Integer({
      minimum: 0,
      default: 5000,
      description:
        'lock_timeout of each migration statement, in ms (0 = wait forever): a migration never blocks the lock queue longer',
    }),
    MIGRATION_LOCK_RETRIES: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 4,
      description: 'how many times a migration that hit its lock_timeout is retried (with backoff)',
    }),
    SHUTDOWN_DRAIN_MS: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 5000,
      description:
        'on SIGTERM, how long /readyz answers 503 while requests are still served (load balancers take the instance out), in ms',
    }),
    DB_PREPARED_STATEMENTS: Type.Boolean({
      default: true,
      description:
        'named prepared statements; false for a transaction pooler that cannot carry them (PgBouncer before 1.21)',
    }),
    PORT: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: defaults.port,
      description: 'TCP port to listen on',
    }),
    HOST: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description: 'address to listen on (0.0.0.0 in containers)',
    }),
    LOG_LEVEL: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' },
    ),
    LOG_REQUESTS: Type.Union([Type.Literal('all'), Type.Literal('errors'), Type.Literal('none')], {
      default: 'all',
      description: 'request log lines: all (one per request), errors (4xx/5xx only) or none',
    }),
    DB_POOL_MAX: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 10,
      description: 'connections in the pool (transactions, and every query with DB_PIPELINE_CONNECTIONS=0)',
    }),
    DB_PIPELINE_CONNECTIONS: Type.Integer({
      minimum: 0,
      maximum: 16,
      default: 2,
      description:
        'shared connections that carry the reads outside a transaction (SELECT without a row lock), pipelined: the next one used only while those before it are stalled on a slow query, then the pool; 0: each query takes a connection of the pool',
    }),
    DB_CONNECT_TIMEOUT_MS: Type.Integer({
      minimum: 0,
      default: 30000,
      description: 'how long startup waits for the database, in ms',
    }),
    BODY_LIMIT_BYTES: Type.Integer({
      minimum: 1024,
      default: 65536,
      description: 'largest accepted request body',
    }),
    METRICS_ENABLED: Type.Boolean({
      default: true,
      description:
        'serve /metrics (Prometheus) and count every request for it; false only to measure what that costs (make bench)',
    }),
    // Slow clients (docs/api.md "At the edge"): a connection that trickles its headers or
    // its body is answered 408 and closed rather than held open.
    HTTP_HEADERS_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 10_000,
      description:
        "how long a client may take to send a request's headers, in ms (then 408 and the connection is closed); at most HTTP_REQUEST_TIMEOUT_MS",
    }),
    HTTP_REQUEST_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 30_000,
      description:
        'how long a client may take to send a whole request, headers and body, in ms (then 408 and the connection is closed); the handling time is not counted',
    }),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 72_000,
      description:
        'how long an idle keep-alive connection is kept open, in ms; longer than the idle timeout of any load balancer in front (so it, not the service, closes idle connections)',
    }),
    TRUST_PROXY: Type.String({
      default: 'false',
      // Never `true`: believing every hop lets a client name any address it likes and
      // step around the per-address rate limits.
      pattern: '^(false|[0-9]{1,2}|[0-9a-fA-F.:/]+( *, *[0-9a-fA-F.:/]+)*)$',
      description:
        'whose X-Forwarded-For to believe (client addresses drive rate limits): false, the number of proxies in front of the service (e.g. 1 behind one load balancer), or their comma-separated addresses/CIDRs; never "true"',
    }),
  } satisfies TProperties
}

export interface ServiceConfig {
  port: number
  host: string
  logLevel: string
  logRequests: 'all' | 'errors' | 'none'
  /** Requests: the runtime role, possibly through a pooler. */
  databaseUrl: string
  /** Migrations: the schema owner, directly. */
  migrationDatabaseUrl: string
  migrateOnStart: boolean
  migrationLock: { timeoutMs: number; retries: number }
  shutdownDrainMs: number
  dbPoolMax: number
  dbPipelineConnections: number
  dbPreparedStatements: boolean
  dbConnectTimeoutMs: number
  bodyLimit: number
  trustProxy: TrustProxy
  metricsEnabled: boolean
  /** Slow clients' limits; the kit's defaults (DEFAULT_HTTP_TIMEOUTS) when absent. */
  httpTimeouts?: HttpTimeouts
}

export interface HttpTimeouts {
  headersMs: number
  requestMs: number
  keepAliveMs: number
}

export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 72_000,
})

export type ServiceEnv = Static<TObject<ReturnType<typeof serviceEnv>>>

export function toServiceConfig(env: ServiceEnv): ServiceConfig {
  const problems: string[] = []
  // The pattern checks the scheme only: a URL that starts right but does not parse
  // (a bad port, a stray bracket) is named here, never shown (its password would be).
  for (const name of ['DATABASE_URL', 'MIGRATION_DATABASE_URL'] as const) {
    const value = env[name]
    if (value !== undefined && !URL.canParse(value)) {
      problems.push(
        `${name} is not a valid URL (expected postgres://user:password@host:port/database); not shown, it may hold a password`,
      )
    }
  }
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS (${env.HTTP_HEADERS_TIMEOUT_MS}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request`,
    )
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return {
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    logRequests: env.LOG_REQUESTS,
    databaseUrl: env.DATABASE_URL,
    migrationDatabaseUrl: env.MIGRATION_DATABASE_URL ?? env.DATABASE_URL,
    migrateOnStart: env.MIGRATE_ON_START,
    migrationLock: { timeoutMs: env.MIGRATION_LOCK_TIMEOUT_MS, retries: env.MIGRATION_LOCK_RETRIES },
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
    dbPoolMax: env.DB_POOL_MAX,
    dbPipelineConnections: env.DB_PIPELINE_CONNECTIONS,
    dbPreparedStatements: env.DB_PREPARED_STATEMENTS,
    dbConnectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    metricsEnabled: env.METRICS_ENABLED,
    httpTimeouts: {
      headersMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
  }
}

/** Fastify's trustProxy: all, none, a list of proxy addresses, or the nearest N hops. */
export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean)

function parseTrustProxy(value: string): TrustProxy {
  if (value === 'false') return false
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    return (_address, hop) => hop < hops
  }
  return value
}
