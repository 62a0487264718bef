// What the token contract promises billing: the claims (RFC 9068: typ at+jwt, iss
// auth's URL, aud every service by name), the JWKS, and that anything but a current
// EdDSA access token for auth signed by this service's key is a 401.
import { generateKeyPairSync } from 'node:crypto'
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  jwtVerify,
  SignJWT,
} from 'jose'
import { describe, expect, test, vi } from 'vitest'
import { bearer, buildTestApp, login, register } from './helper.js'

const { app, config, privateKey } = await buildTestApp()
const user = await register(app)
const token = await login(app, user)
const kid = await calculateJwkThumbprint(await exportJWK(privateKey), 'sha256')

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: config.jwt.issuer,
    aud: [...config.jwt.audiences],
    sub: user.id,
    username: user.username,
    iat: now,
    exp: now + 60,
    ...overrides,
  }
}

function sign(payload: Record<string, unknown>, key = privateKey, typ: string | null = 'at+jwt') {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid, ...(typ ? { typ } : {}) }).sign(key)
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function me(token: string) {
  return app.inject({ url: '/auth/users/me', headers: bearer(token) })
}

describe('a token from POST /auth/token', () => {
  test('carries the contract claims and verifies against the published JWKS', async () => {
    const jwksRes = await app.inject('/auth/.well-known/jwks.json')
    expect(jwksRes.statusCode).toBe(200)
    const jwks = jwksRes.json()
    expect(jwks).toEqual({
      keys: [{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid, alg: 'EdDSA', use: 'sig' }],
    })

    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms: ['EdDSA'],
      issuer: 'http://localhost:5008',
      audience: 'billing',
      typ: 'at+jwt',
    })
    // An ordinary user's token: no scope claim at all.
    expect(payload).toEqual({
      iss: 'http://localhost:5008',
      aud: ['auth', 'billing'],
      sub: user.id,
      username: user.username,
      iat: expect.any(Number),
      exp: payload.iat! + 900,
    })
  })

  test('the token response is the OAuth2 shape, not cacheable', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'password',
        username: user.username,
        password: user.password,
      }).toString(),
    })
    expect(res.json()).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 900,
      scope: '',
    })
    expect(res.headers['cache-control']).toBe('no-store')
  })

  test('a token signed here by the test (same key, same claims) is accepted: the rejections below are meaningful', async () => {
    expect((await me(await sign(claims()))).statusCode).toBe(200)
  })
})

describe('rejected tokens: 401 INVALID_TOKEN', () => {
  const cases: [string, () => Promise<string>][] = [
    ['expired', () => sign(claims({ iat: 1_000_000, exp: 1_000_060 }))],
    [
      'tampered payload',
      async () => {
        const [header, , signature] = token.split('.')
        return `${header}.${b64({ ...claims(), username: 'admin' })}.${signature}`
      },
    ],
    [
      'tampered signature',
      async () => {
        const [header, payload, signature] = token.split('.')
        const bytes = Buffer.from(signature!, 'base64url')
        bytes[0]! ^= 1
        return `${header}.${payload}.${bytes.toString('base64url')}`
      },
    ],
    ['signed by another key', () => sign(claims(), generateKeyPairSync('ed25519').privateKey)],
    ['alg: none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
    [
      'HS256 with the public key as the secret',
      async () => {
        const { keys } = (await app.inject('/auth/.well-known/jwks.json')).json()
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid })
          .sign(Buffer.from(keys[0].x, 'base64url'))
      },
    ],
    ['another issuer', () => sign(claims({ iss: 'https://someone-else.example' }))],
    ['the bare word issuer of old', () => sign(claims({ iss: 'auth' }))],
    ['another audience', () => sign(claims({ aud: 'elsewhere' }))],
    ['for billing only, not auth', () => sign(claims({ aud: 'billing' }))],
    ['the shared audience of old', () => sign(claims({ aud: 'services' }))],
    ['typ JWT (not an access token)', () => sign(claims(), privateKey, 'JWT')],
    ['no typ', () => sign(claims(), privateKey, null)],
    ['no exp', () => sign({ ...claims(), exp: undefined })],
    ['a sub that is not a user id', () => sign(claims({ sub: 'admin' }))],
  ]
  test.each(cases)('%s', async (_name, make) => {
    const res = await me(await make())
    expect(res.statusCode).toBe(401)
    expect(res.json()).toMatchObject({ statusCode: 401, code: 'INVALID_TOKEN' })
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
  })

  test('another scheme is 401 NOT_AUTHENTICATED (no bearer token), a malformed bearer header INVALID_TOKEN', async () => {
    const cases = {
      'Basic dXNlcjpwYXNz': 'NOT_AUTHENTICATED',
      [`Token ${token}`]: 'NOT_AUTHENTICATED',
      Bearer: 'INVALID_TOKEN',
    }
    for (const [authorization, code] of Object.entries(cases)) {
      const res = await app.inject({ url: '/auth/users/me', headers: { authorization } })
      expect(res.statusCode, authorization).toBe(401)
      expect(res.json().code, authorization).toBe(code)
    }
  })

  test('a token of another type says it is not an access token', async () => {
    const res = await me(await sign(claims(), privateKey, 'JWT'))
    expect(res.json().message).toContain('typ header is not at+jwt')
  })

  test('an expired token says so', async () => {
    const res = await me(await sign(claims({ iat: 1_000_000, exp: 1_000_060 })))
    expect(res.json().message).toContain('expired')
  })
})

test('a token accepted once (and remembered) is refused once it expires', async () => {
  const now = Math.floor(Date.now() / 1000)
  const shortLived = await sign(claims({ iat: now, exp: now + 30 }))
  expect((await me(shortLived)).statusCode).toBe(200)
  expect((await me(shortLived)).statusCode).toBe(200)
  vi.useFakeTimers({ toFake: ['Date'], now: (now + 30) * 1000 })
  try {
    const res = await me(shortLived)
    expect(res.statusCode).toBe(401)
    expect(res.json().message).toContain('expired')
  } finally {
    vi.useRealTimers()
  }
})
