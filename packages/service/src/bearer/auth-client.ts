// What every service that accepts auth's tokens shares: the AUTH_* settings, the
// bearer verification against the keys auth publishes, and the docs' two ways to
// present a token (Swagger UI's OAuth2 login form posting to auth, or a pasted one).
// A service then writes `onRequest: app.authenticate` and `callerOf(request)`.
import type { FastifyInstance } from 'fastify'
import type { OpenAPIV3_1 } from 'openapi-types'
import { type Static, type TProperties, Type } from 'typebox'
import { ConfigError } from '../config.js'
import { bearerAuthPlugin } from './bearer-auth.js'
import { remoteSigningKeys } from './remote-keys.js'

const URL_PATTERN = '^https?://[^/?#]+(/[^?#]*)?$'

/**
 * The `iss` of auth's tokens when nothing is configured, on auth and on every service
 * alike: auth's development origin. Anywhere else set AUTH_ISSUER on all of them to
 * auth's public origin (docs/production.md).
 */
export const DEFAULT_AUTH_ISSUER = 'http://localhost:5008'
/** An absolute http(s) URL with no path, query or fragment (RFC 8414's metadata lives at its root). */
export const ISSUER_PATTERN = '^https?://[^/?#\\s]+$'
/** A service's name as a token audience: the folder name under services/. */
export const AUDIENCE_PATTERN = '^[a-z][a-z0-9-]*$'

/**
 * The variables (for the service's TypeBox env schema). `audience` is the service's
 * name: auth lists it among a token's audiences (AUTH_TOKEN_AUDIENCES) for the token
 * to be accepted here.
 */
export function authClientEnv(options: { audience: string }) {
  return {
    AUTH_URL: Type.String({
      pattern: URL_PATTERN,
      default: 'http://127.0.0.1:5008',
      description: "the auth service's base URL (its routes live under /auth), e.g. http://auth:5008",
    }),
    AUTH_URL_ALLOW_HTTP: Type.Boolean({
      default: false,
      description:
        'true: AUTH_URL may be plain http:// to a host other than loopback, for a private network the deployment trusts (compose, the cluster network); otherwise it must be https://',
    }),
    AUTH_PUBLIC_URL: Type.Optional(
      Type.String({
        pattern: URL_PATTERN,
        description:
          "auth's base URL as a browser reaches it, for the Authorize login form of /docs (default: AUTH_URL), e.g. http://localhost:5008",
      }),
    ),
    AUTH_ISSUER: Type.String({
      pattern: ISSUER_PATTERN,
      default: DEFAULT_AUTH_ISSUER,
      description:
        "the `iss` every accepted token must carry: auth's AUTH_ISSUER, an absolute URL without a path (auth's public origin), e.g. https://auth.example.com",
    }),
    AUTH_AUDIENCE: Type.String({
      pattern: AUDIENCE_PATTERN,
      default: options.audience,
      description: `the name a token's \`aud\` must list for this service to accept it (one of auth's AUTH_TOKEN_AUDIENCES); default ${options.audience}`,
    }),
    AUTH_TIMEOUT_MS: Type.Integer({
      minimum: 1,
      maximum: 60_000,
      default: 2000,
      description: 'limit on each call to auth (JWKS fetch, user lookup), in ms; then 503 AUTH_UNAVAILABLE',
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
      description: "clock skew accepted between auth's host and this one when checking exp, in s",
    }),
  } satisfies TProperties
}

type AuthClientEnv = Static<ReturnType<typeof Type.Object<ReturnType<typeof authClientEnv>>>>

export interface AuthClientConfig {
  /** Without a trailing slash, so `${url}/auth/...` never doubles it. */
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

/**
 * AUTH_URL is where this service fetches the keys it trusts tokens by: over plain HTTP
 * anyone on the path could serve their own and mint any token. So https, except to
 * this machine (loopback) or on a network the deployment declares private.
 */
function checkAuthUrl(url: string, allowHttp: boolean): void {
  const { protocol, hostname } = new URL(url)
  if (protocol === 'https:' || allowHttp || isLoopback(hostname)) return
  throw new ConfigError([
    `AUTH_URL must be https:// (got ${protocol}//${hostname}): this service trusts the signing keys it fetches there. Plain http:// is accepted for a loopback host (localhost, 127.0.0.0/8, [::1]), or on a private network with AUTH_URL_ALLOW_HTTP=true`,
  ])
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  )
}

export function toAuthClientConfig(values: AuthClientEnv): AuthClientConfig {
  checkAuthUrl(values.AUTH_URL, values.AUTH_URL_ALLOW_HTTP)
  return Object.freeze({
    url: values.AUTH_URL.replace(/\/+$/, ''),
    publicUrl: (values.AUTH_PUBLIC_URL ?? values.AUTH_URL).replace(/\/+$/, ''),
    issuer: values.AUTH_ISSUER,
    audience: values.AUTH_AUDIENCE,
    timeoutMs: values.AUTH_TIMEOUT_MS,
    jwksCacheMaxAgeMs: values.AUTH_JWKS_CACHE_MAX_AGE_MS,
    jwksCooldownMs: values.AUTH_JWKS_COOLDOWN_MS,
    clockToleranceSeconds: values.AUTH_CLOCK_TOLERANCE_SECONDS,
  })
}

/** app.authenticate for auth's tokens, verified locally against the keys auth publishes. */
export async function registerAuthTokens(app: FastifyInstance, auth: AuthClientConfig): Promise<void> {
  await app.register(bearerAuthPlugin, {
    keys: remoteSigningKeys({
      url: new URL(`${auth.url}/auth/.well-known/jwks.json`),
      timeoutMs: auth.timeoutMs,
      cacheMaxAgeMs: auth.jwksCacheMaxAgeMs,
      cooldownMs: auth.jwksCooldownMs,
    }),
    issuer: auth.issuer,
    audience: auth.audience,
    clockToleranceSeconds: auth.clockToleranceSeconds,
    loginHint: "auth's POST /auth/token",
  })
}

/**
 * The docs' security schemes: Swagger UI's Authorize posts its OAuth2 password form
 * (with the scopes ticked, if any)
 * to `tokenUrl` (FastAPI's OAuth2PasswordBearer; across origins for every service
 * but auth, which answers CORS for their docs pages), or takes a pasted token.
 */
export function authSecuritySchemes(
  tokenUrl: string,
  /** The scopes this service's operations ask for, with what each allows (the Authorize dialog lists them). */
  scopes: Record<string, string> = {},
): Record<string, OpenAPIV3_1.SecuritySchemeObject> {
  return {
    OAuth2PasswordBearer: {
      type: 'oauth2',
      description:
        "Log in with your auth username and password (POST /auth/token). The token is granted the scopes of your role (an admin's include every scope below); tick scopes to ask for fewer.",
      flows: { password: { tokenUrl, scopes } },
    },
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'An `access_token` from auth (POST /auth/token, form fields username and password), an EdDSA-signed JWT',
    },
  }
}
