// Token verification against a JWKS served over real HTTP with real Ed25519 keys:
// what is accepted, what is 401, key rotation, and what happens when the keys or
// auth cannot be reached. (The same checks against the real auth: e2e.test.ts.)
import { randomUUID } from 'node:crypto'
import { freePort } from '@app/db/embedded'
import { createSigningKey, type JwksServer, type SigningKey, signToken, startJwksServer } from '@app/testkit'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { PLANS_WRITE } from '../src/scopes.js'
import { bearer, buildTestApp, countRows, createDatabase, type TestDatabase } from './helper.js'

let database: TestDatabase
let key: SigningKey
let keys: JwksServer

beforeAll(async () => {
  database = await createDatabase()
  key = await createSigningKey()
  keys = await startJwksServer([key])
})
afterAll(() => keys.close())

const app = (env: Record<string, string> = {}) =>
  buildTestApp({ AUTH_URL: keys.url, ...env }, database).then((t) => t.app)

/** An authenticated read that touches nothing but billing's own table. */
const listOwn = (a: Awaited<ReturnType<typeof app>>, token: string) =>
  a.inject({ url: '/billing/user-subscriptions', headers: bearer(token) })

function unsigned(header: object, payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(payload)}.`
}

describe('a valid token', () => {
  test('is accepted, and the caller is its sub', async () => {
    const a = await app()
    const sub = randomUUID()
    const res = await listOwn(a, await signToken(key, { sub }))
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ items: [], nextCursor: null })
  })

  test('is verified from the cached key set: one JWKS fetch for many requests', async () => {
    const a = await app()
    const before = keys.jwksFetches
    for (let i = 0; i < 5; i++) expect((await listOwn(a, await signToken(key))).statusCode).toBe(200)
    expect(keys.jwksFetches - before).toBe(1)
  })
})

describe('rejected with 401', () => {
  let shared: Awaited<ReturnType<typeof app>>
  // No cooldown: an unknown kid makes billing fetch the keys again, and still fails.
  beforeAll(async () => {
    shared = await app({ AUTH_JWKS_COOLDOWN_MS: '0' })
  })
  const now = () => Math.floor(Date.now() / 1000)
  const claims = () => ({
    sub: randomUUID(),
    iss: 'http://localhost:5008',
    aud: 'billing',
    scope: PLANS_WRITE,
    iat: now(),
    exp: now() + 900,
  })

  test.each([
    ['no Authorization header', async () => undefined, 'NOT_AUTHENTICATED'],
    ['another scheme', async () => 'Basic YWxpY2U6c2VjcmV0', 'NOT_AUTHENTICATED'],
    ['a token that is not a JWT', async () => 'Bearer not-a-jwt', 'INVALID_TOKEN'],
    ['an expired token', async () => `Bearer ${await signToken(key, { expiresIn: -60 })}`, 'INVALID_TOKEN'],
    [
      'another issuer',
      async () => `Bearer ${await signToken(key, { iss: 'https://evil.example' })}`,
      'INVALID_TOKEN',
    ],
    [
      'the bare word issuer of old',
      async () => `Bearer ${await signToken(key, { iss: 'auth' })}`,
      'INVALID_TOKEN',
    ],
    ['another audience', async () => `Bearer ${await signToken(key, { aud: 'other' })}`, 'INVALID_TOKEN'],
    [
      'a token for auth only',
      async () => `Bearer ${await signToken(key, { aud: 'auth', scope: PLANS_WRITE })}`,
      'INVALID_TOKEN',
    ],
    [
      'the shared audience of old',
      async () => `Bearer ${await signToken(key, { aud: 'services' })}`,
      'INVALID_TOKEN',
    ],
    [
      'typ JWT: correctly signed, but not an access token',
      async () => `Bearer ${await signToken(key, { typ: 'JWT', scope: PLANS_WRITE })}`,
      'INVALID_TOKEN',
    ],
    [
      'no typ',
      async () => `Bearer ${await signToken(key, { typ: null, scope: PLANS_WRITE })}`,
      'INVALID_TOKEN',
    ],
    [
      'a sub that is not a user id',
      async () => `Bearer ${await signToken(key, { sub: 'admin' })}`,
      'INVALID_TOKEN',
    ],
    ['alg none', async () => `Bearer ${unsigned({ alg: 'none', typ: 'JWT' }, claims())}`, 'INVALID_TOKEN'],
    [
      'HS256 with the public key as the secret (algorithm confusion)',
      async () =>
        `Bearer ${await new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: key.kid })
          .sign(new TextEncoder().encode(JSON.stringify(key.jwk)))}`,
      'INVALID_TOKEN',
    ],
    [
      'a key auth does not publish',
      async () => `Bearer ${await signToken(await createSigningKey())}`,
      'INVALID_TOKEN',
    ],
    [
      "another key claiming the published key's kid",
      async () => `Bearer ${await signToken({ ...(await createSigningKey()), kid: key.kid })}`,
      'INVALID_TOKEN',
    ],
  ])('%s', async (name, authorization, code) => {
    const a = shared
    const before = await countRows(a, 'subscriptions')
    const header = await authorization()
    const res = await a.inject({
      method: 'POST',
      url: '/billing/subscriptions',
      headers: header ? { authorization: header } : {},
      payload: { category: 'x', priceMinor: 1, currency: 'EUR' },
    })
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe(code)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
    if (name === 'an expired token') expect(res.json().message).toMatch(/expired/)
    expect(await countRows(a, 'subscriptions')).toBe(before)
  })
})

test('a token accepted once (and remembered) is refused once it expires', async () => {
  const a = await app({ AUTH_CLOCK_TOLERANCE_SECONDS: '0' })
  // exp is whole seconds: 3 s from now leaves at least 2 s for the first request on a busy machine.
  const token = await signToken(key, { expiresIn: 3 })
  const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number
  expect((await listOwn(a, token)).statusCode).toBe(200)
  await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50))
  const res = await listOwn(a, token)
  expect(res.statusCode).toBe(401)
  expect(res.json().message).toMatch(/expired/)
})

describe('key rotation', () => {
  test('a token with an unknown kid makes billing fetch the keys again', async () => {
    const a = await app({ AUTH_JWKS_COOLDOWN_MS: '0' })
    expect((await listOwn(a, await signToken(key))).statusCode).toBe(200)
    const next = await createSigningKey()
    keys.keys = [key, next]
    try {
      const before = keys.jwksFetches
      expect((await listOwn(a, await signToken(next))).statusCode).toBe(200)
      expect(keys.jwksFetches - before).toBe(1)
    } finally {
      keys.keys = [key]
    }
  })

  // auth's rotation (services/auth/README.md): the new key B becomes current and A
  // stays in the set to verify. Tokens from either key pass, whichever one billing sees first.
  test("auth's JWKS turning from [A] into [B, A]: B's tokens (unknown kid: one refetch) and A's both pass", async () => {
    const a = await app({ AUTH_JWKS_COOLDOWN_MS: '0' })
    expect((await listOwn(a, await signToken(key))).statusCode).toBe(200)
    const next = await createSigningKey()
    keys.keys = [next, key]
    try {
      const before = keys.jwksFetches
      expect((await listOwn(a, await signToken(next))).statusCode).toBe(200)
      expect(keys.jwksFetches - before).toBe(1)
      // Fresh tokens (each has its own random sub), not ones billing remembers as verified.
      expect((await listOwn(a, await signToken(key))).statusCode).toBe(200)
      expect((await listOwn(a, await signToken(next))).statusCode).toBe(200)
      expect(keys.jwksFetches - before).toBe(1)
    } finally {
      keys.keys = [key]
    }
  })

  test('within the cooldown, unknown kids do not make billing hammer auth', async () => {
    const a = await app({ AUTH_JWKS_COOLDOWN_MS: '600000' })
    expect((await listOwn(a, await signToken(key))).statusCode).toBe(200)
    const before = keys.jwksFetches
    for (let i = 0; i < 3; i++) {
      expect((await listOwn(a, await signToken(await createSigningKey()))).statusCode).toBe(401)
    }
    expect(keys.jwksFetches).toBe(before)
  })
})

describe('auth unreachable', () => {
  test('no keys fetched yet and auth down: 503 AUTH_UNAVAILABLE, not 401', async () => {
    const a = await app({ AUTH_URL: `http://127.0.0.1:${await freePort()}` })
    const res = await listOwn(a, await signToken(key))
    expect(res.statusCode).toBe(503)
    expect(res.json().code).toBe('AUTH_UNAVAILABLE')
    expect(res.headers['retry-after']).toBe('1')
  })

  test('keys expired from the cache while auth is down: the last known keys still verify', async () => {
    const a = await app({ AUTH_JWKS_CACHE_MAX_AGE_MS: '0', AUTH_JWKS_COOLDOWN_MS: '0' })
    expect((await listOwn(a, await signToken(key))).statusCode).toBe(200)
    keys.available = false
    try {
      const before = keys.jwksFetches
      expect((await listOwn(a, await signToken(key))).statusCode).toBe(200)
      expect(keys.jwksFetches).toBeGreaterThan(before)
      // A kid billing has never seen cannot be checked without auth.
      const res = await listOwn(a, await signToken(await createSigningKey()))
      expect(res.statusCode).toBe(503)
      expect(res.json().code).toBe('AUTH_UNAVAILABLE')
    } finally {
      keys.available = true
    }
  })

  test('auth not answering the user lookup in time: 503 AUTH_UNAVAILABLE and nothing written', async () => {
    const a = await app({ AUTH_TIMEOUT_MS: '300' })
    const token = await signToken(key, { scope: PLANS_WRITE })
    const plan = await a.inject({
      method: 'POST',
      url: '/billing/subscriptions',
      headers: bearer(token),
      payload: { category: 'timeout', priceMinor: 100, currency: 'EUR' },
    })
    expect(plan.statusCode).toBe(201)
    const hungBefore = keys.hungUserLookups
    const res = await a.inject({
      method: 'POST',
      url: '/billing/user-subscriptions',
      headers: { ...bearer(token), 'idempotency-key': 'timeout-1' },
      payload: { subscriptionId: plan.json().id },
    })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toMatchObject({ code: 'AUTH_UNAVAILABLE', message: expect.stringContaining('300 ms') })
    expect(keys.hungUserLookups).toBe(hungBefore + 1)
    expect(await countRows(a, 'user_subscriptions')).toBe(0)
    expect(await countRows(a, 'idempotency_keys')).toBe(0)
  })
})
