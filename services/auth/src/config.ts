// The auth service's configuration: the only reader of process.env (via server.ts).
import { ConfigError, loadEnv, type ServiceConfig, serviceEnv, toServiceConfig } from '@app/service'
import { Type } from 'typebox'
import { readTokenKeys, type TokenKeys } from './tokens/key-config.js'

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
  AUTH_ISSUER: Type.String({ minLength: 1, default: 'auth', description: 'the tokens\' "iss" claim' }),
  AUTH_AUDIENCE: Type.String({
    minLength: 1,
    default: 'services',
    description: 'the tokens\' "aud" claim',
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
    audience: string
    ttlSeconds: number
  }
  /** Counted in auth.login_rate_limits, shared by every replica. */
  tokenRateLimit: { max: number; windowMs: number; sweepIntervalSeconds: number }
  /** Origins allowed to call POST /auth/token from a browser (CORS); ['*'] for any. */
  tokenCorsOrigins: readonly string[]
}

// Pure but for the token keys: it reads their files, and under DEV_SECRETS_DIR
// creates the development key the first time (so a bad one stops startup here).
export function loadConfig(env: Record<string, string | undefined>): Readonly<AuthConfig> {
  const values = loadEnv(AuthEnv, env)
  const keys = readTokenKeys(values)
  if ('problems' in keys) throw new ConfigError(keys.problems)
  return Object.freeze({
    ...toServiceConfig(values),
    jwt: Object.freeze({
      ...keys,
      verifyKeys: Object.freeze(keys.verifyKeys),
      issuer: values.AUTH_ISSUER,
      audience: values.AUTH_AUDIENCE,
      ttlSeconds: values.AUTH_TOKEN_TTL_SECONDS,
    }),
    tokenRateLimit: Object.freeze({
      max: values.AUTH_TOKEN_RATE_LIMIT_MAX,
      windowMs: values.AUTH_TOKEN_RATE_LIMIT_WINDOW_SECONDS * 1000,
      sweepIntervalSeconds: values.AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS,
    }),
    tokenCorsOrigins: Object.freeze(parseOrigins(values.AUTH_CORS_ORIGINS)),
  })
}

/** As browsers send the Origin header: lower case, no trailing slash. */
function parseOrigins(value: string): string[] {
  return value.split(',').map((origin) => origin.trim().replace(/\/$/, '').toLowerCase())
}
