// The __name__ service's configuration: the only reader of process.env (via server.ts).
import { loadEnv, type ServiceConfig, serviceEnv, toServiceConfig } from '@app/service'
import { Type } from 'typebox'

const __Name__Env = Type.Object({
  ...serviceEnv({ port: __port__ }),
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
    description: "limit on each fetch of auth's signing keys, in ms; then 503 AUTH_UNAVAILABLE",
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
    description: "clock skew accepted between auth's and __name__'s hosts when checking exp/iat, in s",
  }),
})

export interface __Name__Config extends ServiceConfig {
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
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<__Name__Config> {
  const values = loadEnv(__Name__Env, env)
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
  })
}
