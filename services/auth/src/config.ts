// The auth service's configuration: the only reader of process.env (via server.ts).
import type { KeyObject } from 'node:crypto'
import { ConfigError, loadEnv, type ServiceConfig, serviceEnv, toServiceConfig } from '@app/http'
import { Type } from 'typebox'
import { readSigningKey, type SigningKeySource } from './tokens/signing-key.js'

const AuthEnv = Type.Object({
  ...serviceEnv({ port: 5008 }),
  // No schema constraints on the key itself: loadEnv echoes a rejected value, and
  // this one is a secret. readSigningKey checks it and never prints it.
  AUTH_JWT_PRIVATE_KEY: Type.Optional(
    Type.String({ description: 'the Ed25519 signing key, PKCS8 PEM (-----BEGIN PRIVATE KEY-----)' }),
  ),
  AUTH_JWT_PRIVATE_KEY_FILE: Type.Optional(
    Type.String({ minLength: 1, description: 'path of a file holding the PKCS8 PEM signing key' }),
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
  AUTH_CORS_ORIGINS: Type.String({
    pattern: '^(\\*|https?://[^/,\\s]+/?(\\s*,\\s*https?://[^/,\\s]+/?)*)$',
    default: 'http://localhost:5009,http://127.0.0.1:5009',
    description:
      "browser origins whose pages may call POST /auth/token (billing's docs), comma-separated scheme://host:port, or *",
  }),
})

export interface AuthConfig extends ServiceConfig {
  jwt: {
    /** null: none configured, the app generates a development key and warns. */
    privateKey: KeyObject | null
    keySource: SigningKeySource | null
    issuer: string
    audience: string
    ttlSeconds: number
  }
  tokenRateLimit: { max: number; windowMs: number }
  /** Origins allowed to call POST /auth/token from a browser (CORS); ['*'] for any. */
  tokenCorsOrigins: readonly string[]
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<AuthConfig> {
  const values = loadEnv(AuthEnv, env)
  const key = readSigningKey(values)
  if ('problem' in key) throw new ConfigError([key.problem])
  return Object.freeze({
    ...toServiceConfig(values),
    jwt: Object.freeze({
      privateKey: key.privateKey,
      keySource: key.source,
      issuer: values.AUTH_ISSUER,
      audience: values.AUTH_AUDIENCE,
      ttlSeconds: values.AUTH_TOKEN_TTL_SECONDS,
    }),
    tokenRateLimit: Object.freeze({
      max: values.AUTH_TOKEN_RATE_LIMIT_MAX,
      windowMs: values.AUTH_TOKEN_RATE_LIMIT_WINDOW_SECONDS * 1000,
    }),
    tokenCorsOrigins: Object.freeze(parseOrigins(values.AUTH_CORS_ORIGINS)),
  })
}

/** As browsers send the Origin header: lower case, no trailing slash. */
function parseOrigins(value: string): string[] {
  return value.split(',').map((origin) => origin.trim().replace(/\/$/, '').toLowerCase())
}
