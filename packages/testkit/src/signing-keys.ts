// Tokens as auth issues them, for the tests of a service that verifies auth's tokens
// (bearerAuthPlugin with remoteSigningKeys): real Ed25519 keys, real JWTs, and a real
// HTTP server publishing the JWKS where auth does (`/auth/.well-known/jwks.json`), so
// the service's verifier runs unmodified and no auth process is needed.
import { randomUUID } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'

export interface SigningKey {
  kid: string
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
  /** The public key as the JWKS publishes it. */
  jwk: JWK
}

export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  return { kid, privateKey, jwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } }
}

export interface TokenClaims {
  sub?: string
  username?: string
  iss?: string
  aud?: string | string[]
  /** RFC 9068's space-separated scopes; none by default (an ordinary user's token). */
  scope?: string
  /** The header's typ; `at+jwt` (RFC 9068) unless told otherwise; null for none. */
  typ?: string | null
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number
}

/** auth's defaults when nothing is configured: its AUTH_ISSUER and AUTH_TOKEN_AUDIENCES. */
export const AUTH_DEFAULTS = {
  issuer: 'http://localhost:5008',
  audiences: ['auth', 'billing'],
} as const

/**
 * A token with auth's claims (iss and aud as auth's defaults, a user id as sub, typ
 * at+jwt, no scope) unless told otherwise. A service not among auth's default
 * audiences passes its own name as `aud`.
 */
export async function signToken(key: SigningKey, claims: TokenClaims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const typ = claims.typ === undefined ? 'at+jwt' : claims.typ
  return new SignJWT({
    username: claims.username ?? 'alice',
    ...(claims.scope ? { scope: claims.scope } : {}),
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, ...(typ === null ? {} : { typ }) })
    .setSubject(claims.sub ?? randomUUID())
    .setIssuer(claims.iss ?? AUTH_DEFAULTS.issuer)
    .setAudience(claims.aud ?? [...AUTH_DEFAULTS.audiences])
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.expiresIn ?? 900))
    .sign(key.privateKey)
}

export interface JwksServer {
  /** What the service takes as AUTH_URL. */
  url: string
  /** The keys published (change it to rotate). */
  keys: SigningKey[]
  /** How many times the JWKS was fetched. */
  jwksFetches: number
  /** When false, the JWKS route answers 503 (auth unreachable). */
  available: boolean
  /** /auth/users/{id} lookups received: parked, never answered until close (a hanging auth). */
  hungUserLookups: number
  close(): Promise<void>
}

/**
 * A stand-in for auth's key publication on a free loopback port: the JWKS at
 * `<url>/auth/.well-known/jwks.json`; it can rotate keys, count fetches, stop
 * answering, and hang on /auth/users/{id} (to test timeouts). Users themselves are
 * tested against the real auth.
 */
export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const parked: ServerResponse[] = []
  const server = createServer((request, response) => {
    if (request.url === '/auth/.well-known/jwks.json') {
      state.jwksFetches++
      if (!state.available) {
        response.writeHead(503).end()
        return
      }
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ keys: state.keys.map((key) => key.jwk) }))
      return
    }
    if (request.url?.startsWith('/auth/users/')) {
      state.hungUserLookups++
      parked.push(response)
      return
    }
    response.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const state: JwksServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keys,
    jwksFetches: 0,
    available: true,
    hungUserLookups: 0,
    close: async () => {
      for (const response of parked) response.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  return state
}
