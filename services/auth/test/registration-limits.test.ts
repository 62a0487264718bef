// Registration's abuse limits: a per-address rate limit counted in the shared
// auth.login_rate_limits (two app instances on one database share it), and the one
// argon2 queue: past it, 503 BUSY with Retry-After and nothing written.
import { generateKeyPairSync } from 'node:crypto'
import { parseMetrics, sampleValue } from '@app/testkit'
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../src/config.js'
import { buildTestApp, newUser, requestToken, sql, type TestApp } from './helper.js'

const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((counts, status) => {
    counts[status] = (counts[status] ?? 0) + 1
    return counts
  }, {})

function registerFrom(t: TestApp, remoteAddress: string, body = newUser()) {
  return t.app.inject({ method: 'POST', url: '/auth/users', payload: body, remoteAddress })
}

async function usersNamed(t: TestApp, usernames: string[]) {
  const rows = await sql<{ username: string }>(
    t.adminUrl,
    'SELECT username FROM auth.users WHERE username = ANY($1::text[]) ORDER BY username',
    [usernames],
  )
  return rows.map((row) => row.username)
}

describe('per client address, across replicas', () => {
  const LIMIT = { AUTH_REGISTER_RATE_LIMIT_MAX: '3', AUTH_REGISTER_RATE_LIMIT_WINDOW_SECONDS: '3600' }

  test('past AUTH_REGISTER_RATE_LIMIT_MAX, 429 RATE_LIMITED with Retry-After, and no user is written', async () => {
    const first = await buildTestApp(LIMIT)
    const second = await buildTestApp(LIMIT, { replicaOf: first })
    const bodies = Array.from({ length: 6 }, () => newUser())
    const answers = []
    for (const [i, body] of bodies.entries()) {
      answers.push(await registerFrom(i % 2 === 0 ? first : second, '10.20.0.1', body))
    }
    expect(answers.map((res) => res.statusCode)).toEqual([201, 201, 201, 429, 429, 429])
    const limited = answers[3]!
    expect(limited.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' })
    expect(limited.json().message).toContain('registrations')
    const retryAfter = Number(limited.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(3500)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    // Only the three answered 201 exist.
    expect(
      await usersNamed(
        first,
        bodies.map((body) => body.username),
      ),
    ).toEqual(
      bodies
        .slice(0, 3)
        .map((body) => body.username)
        .sort(),
    )
    // Counted in the login limit's table under the route's own key, shared by both instances.
    const rows = await sql<{ key: string; hits: number }>(
      first.adminUrl,
      "SELECT key, hits FROM auth.login_rate_limits WHERE key LIKE '% 10.20.0.1' ORDER BY key",
    )
    expect(rows).toEqual([{ key: 'POST /auth/users 10.20.0.1', hits: 6 }])

    // Another address registers; the limited address still logs in (its own limit).
    expect((await registerFrom(second, '10.20.0.2')).statusCode).toBe(201)
    const login = await requestToken(
      first.app,
      { username: bodies[0]!.username, password: bodies[0]!.password },
      { remoteAddress: '10.20.0.1' },
    )
    expect(login.statusCode).toBe(200)
  })

  test('ended windows restart the count', async () => {
    const t = await buildTestApp(LIMIT)
    for (let i = 0; i < 3; i++) expect((await registerFrom(t, '10.21.0.1')).statusCode).toBe(201)
    expect((await registerFrom(t, '10.21.0.1')).statusCode).toBe(429)
    await sql(
      t.adminUrl,
      "UPDATE auth.login_rate_limits SET expires_at = now() - interval '1 ms' WHERE key = 'POST /auth/users 10.21.0.1'",
    )
    expect((await registerFrom(t, '10.21.0.1')).statusCode).toBe(201)
  })
})

describe('the argon2 queue', () => {
  test('full: concurrent registrations get 503 BUSY with Retry-After, no other 5xx, and a BUSY one writes nothing', async () => {
    const t = await buildTestApp({ AUTH_ARGON2_CONCURRENCY: '1', AUTH_ARGON2_MAX_WAITING: '1' })
    const bodies = Array.from({ length: 24 }, () => newUser())
    // Distinct addresses: the rate limit's count is no row lock they would queue on.
    const answers = await Promise.all(bodies.map((body, i) => registerFrom(t, `10.22.0.${i + 1}`, body)))
    const statuses = tally(answers.map((res) => res.statusCode))
    expect(Object.keys(statuses).sort()).toEqual(['201', '503'])
    const busy = answers.filter((res) => res.statusCode === 503)
    for (const res of busy) {
      expect(res.json()).toMatchObject({ statusCode: 503, code: 'BUSY' })
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    }
    const created = bodies.filter((_, i) => answers[i]!.statusCode === 201).map((body) => body.username)
    expect(
      await usersNamed(
        t,
        bodies.map((body) => body.username),
      ),
    ).toEqual(created.sort())
    // What /metrics says of it: every refusal counted, the queue empty again.
    const metrics = parseMetrics((await t.app.inject({ url: '/metrics' })).body)
    expect(sampleValue(metrics, 'auth_argon2_rejected_total', {})).toBe(busy.length)
    expect(sampleValue(metrics, 'auth_argon2_started_total', { operation: 'hash' })).toBe(created.length)
    expect(sampleValue(metrics, 'auth_argon2_active', {})).toBe(0)
    expect(sampleValue(metrics, 'auth_argon2_waiting', {})).toBe(0)
    // Nothing is left stuck: the next registration goes through.
    expect((await registerFrom(t, '10.22.1.1')).statusCode).toBe(201)
  })

  test('logins share it: a full queue answers 503 BUSY to a login too', async () => {
    const t = await buildTestApp({ AUTH_ARGON2_CONCURRENCY: '1', AUTH_ARGON2_MAX_WAITING: '0' })
    const attempts = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        requestToken(
          t.app,
          { username: `nobody_${i}`, password: 'guess' },
          { remoteAddress: `10.23.0.${i + 1}` },
        ),
      ),
    )
    const statuses = tally(attempts.map((res) => res.statusCode))
    expect(Object.keys(statuses).sort()).toEqual(['401', '503'])
    expect(attempts.find((res) => res.statusCode === 503)!.json()).toMatchObject({ code: 'BUSY' })
  })
})

describe('configuration', () => {
  const base = {
    DATABASE_URL: 'postgres://auth:pw@127.0.0.1:5432/app',
    AUTH_JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString(),
  }

  test('defaults: 10 registrations per address per hour; argon2 2 at once, 32 waiting', () => {
    const config = loadConfig(base)
    expect(config.registerRateLimit).toEqual({ max: 10, windowMs: 3_600_000 })
    expect(config.argon2).toEqual({ concurrency: 2, maxWaiting: 32 })
  })

  test('argon2 may not hold every thread of the pool; bad values name their variable', () => {
    expect(() => loadConfig({ ...base, AUTH_ARGON2_CONCURRENCY: '4' })).toThrow(
      /AUTH_ARGON2_CONCURRENCY \(4\) must be below UV_THREADPOOL_SIZE \(4\)/,
    )
    expect(loadConfig({ ...base, AUTH_ARGON2_CONCURRENCY: '4', UV_THREADPOOL_SIZE: '8' }).argon2).toEqual({
      concurrency: 4,
      maxWaiting: 32,
    })
    for (const [name, bad] of [
      ['AUTH_ARGON2_CONCURRENCY', '0'],
      ['AUTH_ARGON2_MAX_WAITING', '-1'],
      ['AUTH_REGISTER_RATE_LIMIT_MAX', '0'],
      ['AUTH_REGISTER_RATE_LIMIT_WINDOW_SECONDS', 'soon'],
    ] as const) {
      expect(() => loadConfig({ ...base, [name]: bad })).toThrow(new RegExp(name))
    }
  })
})
