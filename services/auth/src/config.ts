// The auth service's configuration: the only reader of process.env (via server.ts).
import {
  AUDIENCE_PATTERN,
  ConfigError,
  DEFAULT_AUTH_ISSUER,
  ISSUER_PATTERN,
  loadEnv,
  type ServiceConfig,
  serviceEnv,
  toServiceConfig,
} from '@app/service'
import { Type } from 'typebox'
import { readTokenKeys, type TokenKeys } from './tokens/key-config.js'

// Every service that accepts auth's tokens, by name: `make new-service` adds each new one.
export const DEFAULT_TOKEN_AUDIENCES = 'auth,billing'

const AuthEnv = Type.Object({
  ...serviceEnv({ port: 5008 }),
  // No schema constraints on the keys themselves: loadEnv echoes a rejected value,
  // and these may be secrets. readTokenKeys checks them and never prints them.
  AUTH_JWT_PRIVATE_KEY: Type.Optional(
    Type.String({
      description: 'the current (signing) Ed25519 key, PKCS8 PEM (-----BEGIN PRIVATE KEY-----)',
    }),
  ),
  AUTH_JWT_PRIVATE_KEY_FILE: Type.Optional(
    Type.String({ minLength: 1, description: 'path of a file holding the current key, PKCS8 PEM' }),
  ),
  AUTH_JWT_KEYS_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'a directory of PEM files (e.g. a mounted Kubernetes Secret): current.pem is the current key, every other *.pem only verifies',
    }),
  ),
  AUTH_JWT_VERIFY_KEYS: Type.Optional(
    Type.String({
      description:
        'Ed25519 keys that verify tokens but never sign them (rotation): PEM blocks, public (SPKI) or private (PKCS8)',
    }),
  ),
  DEV_SECRETS_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'development only: a directory where a service may create and keep development-only secrets; with no key configured, auth keeps its signing key there',
    }),
  ),
  AUTH_ISSUER: Type.String({
    pattern: ISSUER_PATTERN,
    default: DEFAULT_AUTH_ISSUER,
    description:
      "the tokens' iss: auth's public origin, an absolute URL without a path (its metadata is at <issuer>/.well-known/oauth-authorization-server); every service's AUTH_ISSUER must be the same",
  }),
  AUTH_TOKEN_AUDIENCES: Type.String({
    pattern: `^${AUDIENCE_PATTERN.slice(1, -1)}(,${AUDIENCE_PATTERN.slice(1, -1)})*$`,
    default: DEFAULT_TOKEN_AUDIENCES,
    description:
      'the services tokens are for (their aud), by name, comma-separated; each service accepts only tokens listing its own name; must include auth',
  }),
  AUTH_TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 86_400,
    default: 900,
    description: 'access token lifetime in seconds (60 to 86400)',
  }),
  AUTH_TOKEN_RATE_LIMIT_MAX: Type.Integer({
    minimum: 1,
    default: 10,
    description: 'POST /auth/token requests allowed per client IP per window',
  }),
  AUTH_TOKEN_RATE_LIMIT_WINDOW_SECONDS: Type.Integer({
    minimum: 1,
    default: 60,
    description: 'length of the POST /auth/token rate limit window, in seconds',
  }),
  AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 86_400,
    default: 300,
    description: 'how often each process deletes ended rate limit windows, in seconds (0 = never)',
  }),
  AUTH_REGISTER_RATE_LIMIT_MAX: Type.Integer({
    minimum: 1,
    default: 10,
    description: 'POST /auth/users requests allowed per client IP per window',
  }),
  AUTH_REGISTER_RATE_LIMIT_WINDOW_SECONDS: Type.Integer({
    minimum: 1,
    default: 3600,
    description: 'length of the POST /auth/users rate limit window, in seconds',
  }),
  AUTH_LOGIN_BACKOFF_AFTER_FAILURES: Type.Integer({
    minimum: 1,
    default: 5,
    description:
      'consecutive failed logins for one username (from any address) before its logins are held back',
  }),
  AUTH_LOGIN_BACKOFF_INITIAL_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 1,
    description: 'the first hold after that many failures, in seconds; it doubles with each further failure',
  }),
  AUTH_LOGIN_BACKOFF_MAX_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 900,
    description: 'the longest hold, in seconds',
  }),
  AUTH_LOGIN_FAILURES_RESET_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 2_592_000,
    default: 86_400,
    description: "seconds without a failed login after which a username's failures are forgotten",
  }),
  AUTH_ARGON2_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 1023,
    default: 2,
    description:
      'argon2 hashes and verifications run at once (each holds one libuv thread); below UV_THREADPOOL_SIZE (default 4)',
  }),
  AUTH_ARGON2_MAX_WAITING: Type.Integer({
    minimum: 0,
    maximum: 100_000,
    default: 32,
    description: 'argon2 work that may wait for a free slot; beyond it, 503 BUSY',
  }),
  // libuv's, read here only to check AUTH_ARGON2_CONCURRENCY against it.
  UV_THREADPOOL_SIZE: Type.Integer({
    minimum: 1,
    maximum: 1024,
    default: 4,
    description: "the size of libuv's thread pool (read by Node itself at start)",
  }),
  AUTH_CORS_ORIGINS: Type.String({
    pattern: '^(\\*|https?://[^/,\\s]+/?(\\s*,\\s*https?://[^/,\\s]+/?)*)$',
    default: 'http://localhost:5009,http://127.0.0.1:5009',
    description:
      "browser origins whose pages may call POST /auth/token (billing's docs), comma-separated scheme://host:port, or *",
  }),
})

export interface AuthConfig extends ServiceConfig {
  /** The token keys (the current one signs, every one verifies: see tokens/key-config.ts) and claims. */
  jwt: TokenKeys & {
    issuer: string
    /** Every token's aud; includes auth, whose own routes accept only tokens for `auth`. */
    audiences: readonly string[]
    ttlSeconds: number
  }
  /** Counted in auth.login_rate_limits, shared by every replica. */
  tokenRateLimit: { max: number; windowMs: number; sweepIntervalSeconds: number }
  /** POST /auth/users, per client address, counted in the same table (its own keys). */
  registerRateLimit: { max: number; windowMs: number }
  /** Per-username backoff after consecutive failed logins, in auth.login_failures. */
  loginBackoff: LoginBackoffConfig
  /** The one queue every argon2 hash and verification goes through. */
  argon2: { concurrency: number; maxWaiting: number }
  /** Origins allowed to call POST /auth/token from a browser (CORS); ['*'] for any. */
  tokenCorsOrigins: readonly string[]
}

export interface LoginBackoffConfig {
  /** Consecutive failures before logins are held back. */
  afterFailures: number
  /** The first hold; doubled with each further failure, up to maxMs. */
  initialMs: number
  maxMs: number
  /** Failures are forgotten this long after the last one. */
  resetMs: number
}

// Pure but for the token keys: it reads their files, and under DEV_SECRETS_DIR
// creates the development key the first time (so a bad one stops startup here).
export function loadConfig(env: Record<string, string | undefined>): Readonly<AuthConfig> {
  const values = loadEnv(AuthEnv, env)
  const audiences = [...new Set(values.AUTH_TOKEN_AUDIENCES.split(','))]
  const problems = [
    ...(audiences.includes('auth')
      ? []
      : [
          `AUTH_TOKEN_AUDIENCES must include auth (got "${values.AUTH_TOKEN_AUDIENCES}"): auth's own routes accept only tokens for auth`,
        ]),
    ...(env.AUTH_AUDIENCE
      ? [
          'AUTH_AUDIENCE is no longer read by auth: tokens name each service they are for; set AUTH_TOKEN_AUDIENCES (comma-separated service names) instead, and unset it',
        ]
      : []),
  ]
  if (problems.length > 0) throw new ConfigError(problems)
  const keys = readTokenKeys(values)
  if ('problems' in keys) throw new ConfigError(keys.problems)
  // At least one thread stays free for what else uses the pool (DNS lookups, files, crypto).
  if (values.AUTH_ARGON2_CONCURRENCY >= values.UV_THREADPOOL_SIZE) {
    throw new ConfigError([
      `AUTH_ARGON2_CONCURRENCY (${values.AUTH_ARGON2_CONCURRENCY}) must be below UV_THREADPOOL_SIZE (${values.UV_THREADPOOL_SIZE}): argon2 would hold every thread of libuv's pool`,
    ])
  }
  if (values.AUTH_LOGIN_BACKOFF_MAX_SECONDS < values.AUTH_LOGIN_BACKOFF_INITIAL_SECONDS) {
    throw new ConfigError([
      `AUTH_LOGIN_BACKOFF_MAX_SECONDS (${values.AUTH_LOGIN_BACKOFF_MAX_SECONDS}) must be at least AUTH_LOGIN_BACKOFF_INITIAL_SECONDS (${values.AUTH_LOGIN_BACKOFF_INITIAL_SECONDS})`,
    ])
  }
  return Object.freeze({
    ...toServiceConfig(values),
    jwt: Object.freeze({
      ...keys,
      verifyKeys: Object.freeze(keys.verifyKeys),
      issuer: values.AUTH_ISSUER,
      audiences: Object.freeze(audiences),
      ttlSeconds: values.AUTH_TOKEN_TTL_SECONDS,
    }),
    tokenRateLimit: Object.freeze({
      max: values.AUTH_TOKEN_RATE_LIMIT_MAX,
      windowMs: values.AUTH_TOKEN_RATE_LIMIT_WINDOW_SECONDS * 1000,
      sweepIntervalSeconds: values.AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS,
    }),
    registerRateLimit: Object.freeze({
      max: values.AUTH_REGISTER_RATE_LIMIT_MAX,
      windowMs: values.AUTH_REGISTER_RATE_LIMIT_WINDOW_SECONDS * 1000,
    }),
    loginBackoff: Object.freeze({
      afterFailures: values.AUTH_LOGIN_BACKOFF_AFTER_FAILURES,
      initialMs: values.AUTH_LOGIN_BACKOFF_INITIAL_SECONDS * 1000,
      maxMs: values.AUTH_LOGIN_BACKOFF_MAX_SECONDS * 1000,
      resetMs: values.AUTH_LOGIN_FAILURES_RESET_SECONDS * 1000,
    }),
    argon2: Object.freeze({
      concurrency: values.AUTH_ARGON2_CONCURRENCY,
      maxWaiting: values.AUTH_ARGON2_MAX_WAITING,
    }),
    tokenCorsOrigins: Object.freeze(parseOrigins(values.AUTH_CORS_ORIGINS)),
  })
}

/** As browsers send the Origin header: lower case, no trailing slash. */
function parseOrigins(value: string): string[] {
  return value.split(',').map((origin) => origin.trim().replace(/\/$/, '').toLowerCase())
}
