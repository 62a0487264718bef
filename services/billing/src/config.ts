// The billing service's configuration: the only reader of process.env (via server.ts).
import { loadEnv, type ServiceConfig, serviceEnv, toServiceConfig } from '@app/service'
import { Type } from 'typebox'

const BillingEnv = Type.Object({
  ...serviceEnv({ port: 5009 }),
  AUTH_URL: Type.String({
    pattern: '^https?://[^/?#]+(/[^?#]*)?$',
    default: 'http://127.0.0.1:5008',
    description: "the auth service's base URL (its routes live under /auth), e.g. http://auth:5008",
  }),
  AUTH_PUBLIC_URL: Type.Optional(
    Type.String({
      pattern: '^https?://[^/?#]+(/[^?#]*)?$',
      description:
        "auth's base URL as a browser reaches it, for the Authorize login form of /docs (default: AUTH_URL), e.g. http://localhost:5008",
    }),
  ),
  AUTH_ISSUER: Type.String({
    minLength: 1,
    default: 'auth',
    description: "the `iss` every accepted token must carry (auth's AUTH_ISSUER)",
  }),
  AUTH_AUDIENCE: Type.String({
    minLength: 1,
    default: 'services',
    description: "the `aud` every accepted token must carry (auth's AUTH_AUDIENCE)",
  }),
  AUTH_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    maximum: 60_000,
    default: 2000,
    description: 'limit on each call to auth (user lookup, JWKS fetch), in ms; then 503 AUTH_UNAVAILABLE',
  }),
  AUTH_JWKS_CACHE_MAX_AGE_MS: Type.Integer({
    minimum: 0,
    default: 600_000,
    description: "how long auth's public keys are used before they are fetched again, in ms",
  }),
  AUTH_JWKS_COOLDOWN_MS: Type.Integer({
    minimum: 0,
    default: 10_000,
    description: 'least time between two JWKS fetches caused by tokens with an unknown key id, in ms',
  }),
  AUTH_CLOCK_TOLERANCE_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 300,
    default: 5,
    description: "clock skew accepted between auth's and billing's hosts when checking exp/iat, in s",
  }),
  IDEMPOTENCY_KEY_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 2_592_000,
    default: 86_400,
    description:
      'how long a stored Idempotency-Key response is replayed, in s, 60 to 2592000 (then the key is free)',
  }),
  IDEMPOTENCY_SWEEP_INTERVAL_SECONDS: Type.Integer({
    minimum: 0,
    // setInterval holds at most 2^31 - 1 ms; beyond it Node would fire every 1 ms.
    maximum: 604_800,
    default: 3600,
    description: 'how often expired Idempotency-Key records are deleted, in s, up to 604800 (0 = never)',
  }),
})

export interface BillingConfig extends ServiceConfig {
  auth: {
    url: string
    /** Where a browser reaches auth (the docs' OAuth2 tokenUrl); often not `url` in containers. */
    publicUrl: string
    issuer: string
    audience: string
    timeoutMs: number
    jwksCacheMaxAgeMs: number
    jwksCooldownMs: number
    clockToleranceSeconds: number
  }
  idempotency: {
    ttlSeconds: number
    sweepIntervalSeconds: number
  }
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<BillingConfig> {
  const values = loadEnv(BillingEnv, env)
  return Object.freeze({
    ...toServiceConfig(values),
    auth: Object.freeze({
      // Without a trailing slash, so `${url}/auth/...` never doubles it.
      url: values.AUTH_URL.replace(/\/+$/, ''),
      publicUrl: (values.AUTH_PUBLIC_URL ?? values.AUTH_URL).replace(/\/+$/, ''),
      issuer: values.AUTH_ISSUER,
      audience: values.AUTH_AUDIENCE,
      timeoutMs: values.AUTH_TIMEOUT_MS,
      jwksCacheMaxAgeMs: values.AUTH_JWKS_CACHE_MAX_AGE_MS,
      jwksCooldownMs: values.AUTH_JWKS_COOLDOWN_MS,
      clockToleranceSeconds: values.AUTH_CLOCK_TOLERANCE_SECONDS,
    }),
    idempotency: Object.freeze({
      ttlSeconds: values.IDEMPOTENCY_KEY_TTL_SECONDS,
      sweepIntervalSeconds: values.IDEMPOTENCY_SWEEP_INTERVAL_SECONDS,
    }),
  })
}
