// Configuration comes from the environment, validated once at startup against a
// TypeBox schema. Every problem is reported with the variable's name and what was
// expected, and the process never starts half-configured.
import { type Static, type TObject, type TProperties, Type } from 'typebox'
import { makeAjv } from './validation.js'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

const ajv = makeAjv({ allErrors: true, coerceTypes: true })

/** Reads the schema's variables (and only those) from `env`; empty strings count as unset. */
export function loadEnv<T extends TObject>(schema: T, env: Record<string, string | undefined>): Static<T> {
  const input: Record<string, unknown> = {}
  for (const name of Object.keys(schema.properties)) {
    const value = env[name]
    if (value !== undefined && value !== '') input[name] = value
  }
  const validate = ajv.compile(schema)
  if (!validate(input)) {
    const problems = (validate.errors ?? []).map((issue) => {
      if (issue.keyword === 'required') {
        const name = String(issue.params.missingProperty)
        return `${name} is required${describe(schema.properties[name])}`
      }
      const name = issue.instancePath.replace(/^\//, '')
      return `${name} ${issue.message} (got ${JSON.stringify(env[name])})${describe(schema.properties[name])}`
    })
    throw new ConfigError(problems)
  }
  return input as Static<T>
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
      description: "the service's own connection, postgres://<role>:<password>@host:port/database",
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
      description: 'connections in the pool',
    }),
    DB_STATEMENT_TIMEOUT_MS: Type.Integer({
      minimum: 0,
      default: 5000,
      description: 'per-statement limit for requests, in ms (0 = none)',
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
    TRUST_PROXY: Type.String({
      default: 'false',
      pattern: '^(true|false|[0-9]+|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$',
      description:
        'whose X-Forwarded-For to believe (client IPs drive rate limits): false, true, a hop count, or comma-separated proxy addresses/CIDRs',
    }),
  } satisfies TProperties
}

export interface ServiceConfig {
  port: number
  host: string
  logLevel: string
  logRequests: 'all' | 'errors' | 'none'
  databaseUrl: string
  dbPoolMax: number
  dbStatementTimeoutMs: number
  dbConnectTimeoutMs: number
  bodyLimit: number
  trustProxy: TrustProxy
}

export type ServiceEnv = Static<TObject<ReturnType<typeof serviceEnv>>>

export function toServiceConfig(env: ServiceEnv): ServiceConfig {
  return {
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    logRequests: env.LOG_REQUESTS,
    databaseUrl: env.DATABASE_URL,
    dbPoolMax: env.DB_POOL_MAX,
    dbStatementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    dbConnectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
  }
}

/** Fastify's trustProxy: all, none, a list of proxy addresses, or the nearest N hops. */
export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean)

function parseTrustProxy(value: string): TrustProxy {
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    return (_address, hop) => hop < hops
  }
  return value
}
