// A stand-in for auth's key publication, for the token tests: real Ed25519 keys,
// real JWTs and a real HTTP server publishing the JWKS exactly where auth does
// (`/auth/.well-known/jwks.json`), so billing's verifier runs unmodified. It can
// rotate keys, count fetches, stop answering, and hang on /auth/users/{id} (to
// test auth timeouts). Everything about users is tested against the real auth.
import { randomUUID } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'

export interface SigningKey {
  kid: string
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
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
  aud?: string
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number
}

export async function signToken(key: SigningKey, claims: TokenClaims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ username: claims.username ?? 'alice' })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
    .setSubject(claims.sub ?? randomUUID())
    .setIssuer(claims.iss ?? 'auth')
    .setAudience(claims.aud ?? 'services')
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.expiresIn ?? 900))
    .sign(key.privateKey)
}

export interface KeyServer {
  url: string
  /** The keys the JWKS currently publishes. */
  published: SigningKey[]
  jwksFetches: number
  /** When false, the JWKS route answers 503. */
  available: boolean
  /** Parked /auth/users/{id} requests (they never get an answer until close). */
  hungUserLookups: number
  close(): Promise<void>
}

export async function startKeyServer(keys: SigningKey[]): Promise<KeyServer> {
  const parked: ServerResponse[] = []
  const state: KeyServer = {
    url: '',
    published: keys,
    jwksFetches: 0,
    available: true,
    hungUserLookups: 0,
    close: async () => {
      for (const response of parked) response.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  const server = createServer((request, response) => {
    if (request.url === '/auth/.well-known/jwks.json') {
      state.jwksFetches++
      if (!state.available) {
        response.writeHead(503).end()
        return
      }
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ keys: state.published.map((key) => key.jwk) }))
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
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}
