// CORS on POST /auth/token, and only there: billing's Swagger UI (another origin)
// logs in through it. Swagger UI's request carries X-Requested-With, so the browser
// sends a preflight first; the answer and every outcome of the POST (200, 401, 429)
// must carry Access-Control-Allow-Origin, or the page cannot read them.
import { describe, expect, test } from 'vitest'
import type { AuthApp } from '../src/app.js'
import { buildTestApp, register } from './helper.js'

const BILLING_DOCS = 'http://127.0.0.1:5009'
const OTHER_SITE = 'http://evil.example'
const built = buildTestApp()
const configured = buildTestApp({
  AUTH_CORS_ORIGINS: 'https://Docs.Example.com:8443/',
  AUTH_TOKEN_RATE_LIMIT_MAX: '1',
})

/** The preflight a browser sends before Swagger UI's Authorize POST. */
function preflight(app: AuthApp, origin: string, url = '/auth/token') {
  return app.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-requested-with',
    },
  })
}

/** Swagger UI's Authorize POST, as the browser sends it from `origin`. */
function login(app: AuthApp, origin: string, fields: { username: string; password: string }) {
  return app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: {
      origin,
      'content-type': 'application/x-www-form-urlencoded',
      'x-requested-with': 'XMLHttpRequest',
      authorization: 'Basic Og==',
    },
    payload: new URLSearchParams({
      grant_type: 'password',
      username: fields.username,
      password: fields.password,
      scope: '',
    }).toString(),
  })
}

describe("by default, billing's local docs origins", () => {
  test('the preflight allows the POST with the headers Swagger UI sends', async () => {
    const { app } = await built
    for (const origin of [BILLING_DOCS, 'http://localhost:5009']) {
      const res = await preflight(app, origin)
      expect(res.statusCode).toBe(204)
      expect(res.headers['access-control-allow-origin']).toBe(origin)
      expect(res.headers['access-control-allow-methods']).toBe('POST')
      expect(String(res.headers['access-control-allow-headers']).split(', ').sort()).toEqual([
        'authorization',
        'content-type',
        'x-requested-with',
      ])
      expect(res.headers.vary).toContain('Origin')
      expect(res.headers['access-control-allow-credentials']).toBeUndefined()
    }
  })

  test('the login answers, 200 and 401 alike, name the origin', async () => {
    const { app } = await built
    const user = await register(app)
    const ok = await login(app, BILLING_DOCS, user)
    expect(ok.statusCode).toBe(200)
    expect(ok.headers['access-control-allow-origin']).toBe(BILLING_DOCS)
    expect(ok.json()).toMatchObject({ token_type: 'bearer' })

    const wrong = await login(app, BILLING_DOCS, { username: user.username, password: 'wrong-password' })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.headers['access-control-allow-origin']).toBe(BILLING_DOCS)
    expect(wrong.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' })
  })

  test('another origin gets no permission (the browser then withholds the answer)', async () => {
    const { app } = await built
    const res = await preflight(app, OTHER_SITE)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    const user = await register(app)
    const post = await login(app, OTHER_SITE, user)
    expect(post.statusCode).toBe(200)
    expect(post.headers['access-control-allow-origin']).toBeUndefined()
  })

  test('no other route answers CORS: their preflights stay 404', async () => {
    const { app } = await built
    for (const url of ['/auth/users', '/auth/users/me', '/auth/token/', '/auth/token/x']) {
      const res = await preflight(app, BILLING_DOCS, url)
      expect(res.statusCode, url).toBe(404)
      expect(res.headers['access-control-allow-origin'], url).toBeUndefined()
    }
    const users = await app.inject({
      method: 'POST',
      url: '/auth/users',
      headers: { origin: BILLING_DOCS },
      payload: { username: 'x', email: 'x', password: 'x' },
    })
    expect(users.headers['access-control-allow-origin']).toBeUndefined()
    // The token route's query string does not change its path.
    expect((await preflight(app, BILLING_DOCS, '/auth/token?from=docs')).statusCode).toBe(204)
  })
})

describe('AUTH_CORS_ORIGINS', () => {
  test('replaces the defaults; the 429 of the rate limit carries CORS and exposes Retry-After', async () => {
    const { app } = await configured
    const docs = 'https://docs.example.com:8443'
    expect((await preflight(app, docs)).headers['access-control-allow-origin']).toBe(docs)
    expect((await preflight(app, BILLING_DOCS)).headers['access-control-allow-origin']).toBeUndefined()

    const user = await register(app)
    expect((await login(app, docs, user)).statusCode).toBe(200)
    const limited = await login(app, docs, user)
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' })
    expect(limited.headers['access-control-allow-origin']).toBe(docs)
    expect(limited.headers['access-control-expose-headers']).toBe('retry-after')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    // Preflights are not counted against the limit: the browser could not log in otherwise.
    expect((await preflight(app, docs)).statusCode).toBe(204)
  })
})
