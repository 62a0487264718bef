// The login rate limit is counted in auth.login_rate_limits: two app instances on
// one database ("replicas") share it exactly, even under concurrent attempts; it
// restarts with a new window, counts each client address apart, ended windows are
// swept, and a login that cannot be counted is refused (fail closed).
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../src/config.js'
import { createLoginRateLimitsRepository } from '../src/db/login-rate-limits-repository.js'
import { createUsersRepository } from '../src/db/users-repository.js'
import { buildTestApp, newUser, register, requestToken, sql, type TestApp } from './helper.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

// Wrong passwords for one username: its backoff (login-backoff.test.ts) is kept out of the way here.
const LIMIT = {
  AUTH_TOKEN_RATE_LIMIT_MAX: '10',
  AUTH_TOKEN_RATE_LIMIT_WINDOW_SECONDS: '60',
  AUTH_LOGIN_BACKOFF_AFTER_FAILURES: '1000',
}
const primary = buildTestApp(LIMIT)
const replica = primary.then((first) => buildTestApp(LIMIT, { replicaOf: first }))

const keyOf = (address: string) => `POST /auth/token ${address}`

async function windowOf(t: TestApp, address: string) {
  const rows = await sql<{ hits: number; ttl_seconds: number }>(
    t.adminUrl,
    'SELECT hits, extract(epoch FROM expires_at - now())::float8 AS ttl_seconds FROM auth.login_rate_limits WHERE key = $1',
    [keyOf(address)],
  )
  return rows[0]
}

const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((counts, status) => {
    counts[status] = (counts[status] ?? 0) + 1
    return counts
  }, {})

async function replicas() {
  const [first, second] = [await primary, await replica]
  const { username, password } = await register(first.app)
  const user = { username, password }
  const wrong = { username, password: 'wrong-password' }
  return { first, second, user, wrong, apps: [first.app, second.app] }
}

describe('one limit across replicas', () => {
  test('30 wrong passwords from one address, round-robin over two replicas: exactly 10 answered 401, 20 429', async () => {
    const { first, apps, wrong } = await replicas()
    const byReplica: number[][] = [[], []]
    for (let i = 0; i < 30; i++) {
      const res = await requestToken(apps[i % 2]!, wrong, { remoteAddress: '10.1.0.1' })
      byReplica[i % 2]!.push(res.statusCode)
    }
    expect(tally(byReplica.flat())).toEqual({ 401: 10, 429: 20 })
    // Each replica saw only 15 attempts: its own count alone would have allowed 10 of them.
    expect(tally(byReplica[0]!)).toEqual({ 401: 5, 429: 10 })
    expect(tally(byReplica[1]!)).toEqual({ 401: 5, 429: 10 })
    expect((await windowOf(first, '10.1.0.1'))?.hits).toBe(30)
  })

  test('concurrent attempts on both replicas are counted exactly', async () => {
    const { first, apps, wrong } = await replicas()
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => requestToken(apps[i % 2]!, wrong, { remoteAddress: '10.2.0.1' })),
    )
    expect(tally(answers.map((res) => res.statusCode))).toEqual({ 401: 10, 429: 30 })
    expect((await windowOf(first, '10.2.0.1'))?.hits).toBe(40)
  })

  test('past the limit even the right password gets 429; a new window starts the count again', async () => {
    const { first, apps, user, wrong } = await replicas()
    for (let i = 0; i < 10; i++) {
      expect((await requestToken(apps[i % 2]!, wrong, { remoteAddress: '10.3.0.1' })).statusCode).toBe(401)
    }
    const limited = await requestToken(apps[0]!, user, { remoteAddress: '10.3.0.1' })
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' })
    const retryAfter = Number(limited.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)

    // The window ends (as the database's clock says), and the next attempt opens a new one.
    await sql(
      first.adminUrl,
      "UPDATE auth.login_rate_limits SET expires_at = now() - interval '1 ms' WHERE key = $1",
      [keyOf('10.3.0.1')],
    )
    const fresh = await requestToken(apps[1]!, user, { remoteAddress: '10.3.0.1' })
    expect(fresh.statusCode, fresh.body).toBe(200)
    const window = await windowOf(first, '10.3.0.1')
    expect(window?.hits).toBe(1)
    expect(window?.ttl_seconds).toBeGreaterThan(50)
    expect(window?.ttl_seconds).toBeLessThanOrEqual(60)
  })

  test('each client address is counted apart', async () => {
    const { first, apps, user, wrong } = await replicas()
    for (let i = 0; i < 11; i++) await requestToken(apps[i % 2]!, wrong, { remoteAddress: '10.4.0.1' })
    expect((await requestToken(apps[0]!, user, { remoteAddress: '10.4.0.1' })).statusCode).toBe(429)
    expect((await requestToken(apps[1]!, user, { remoteAddress: '10.4.0.2' })).statusCode).toBe(200)
    expect((await windowOf(first, '10.4.0.1'))?.hits).toBe(12)
    expect((await windowOf(first, '10.4.0.2'))?.hits).toBe(1)
  })
})

describe('ended windows are swept', () => {
  const insertWindows = (t: TestApp, rows: [address: string, endsIn: string][]) =>
    sql(
      t.adminUrl,
      `INSERT INTO auth.login_rate_limits (key, hits, expires_at)
       SELECT 'POST /auth/token ' || address, 3, now() + ends_in::interval
       FROM unnest($1::text[], $2::text[]) AS w(address, ends_in)`,
      [rows.map(([address]) => address), rows.map(([, endsIn]) => endsIn)],
    )
  const addresses = async (t: TestApp) =>
    (await sql<{ key: string }>(t.adminUrl, 'SELECT key FROM auth.login_rate_limits ORDER BY key')).map(
      (row) => row.key.replace('POST /auth/token ', ''),
    )

  test('deleteExpired deletes ended windows only, in batches', async () => {
    const t = await buildTestApp({ AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS: '0' })
    await insertWindows(t, [
      ['10.5.0.1', '-1 second'],
      ['10.5.0.2', '-1 hour'],
      ['10.5.0.3', '-1 ms'],
      ['10.5.0.4', '1 minute'],
    ])
    const loginRateLimits = createLoginRateLimitsRepository(t.app.db)
    expect(await loginRateLimits.deleteExpired(2)).toBe(2)
    expect(await loginRateLimits.deleteExpired(2)).toBe(1)
    expect(await loginRateLimits.deleteExpired(2)).toBe(0)
    expect(await addresses(t)).toEqual(['10.5.0.4'])
  })

  test('every process sweeps on its timer, and stops when it closes', async () => {
    const t = await buildTestApp({ AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS: '1' })
    await insertWindows(t, [
      ['10.6.0.1', '-1 second'],
      ['10.6.0.2', '1 minute'],
    ])
    await expect.poll(() => addresses(t), { timeout: 10_000, interval: 200 }).toEqual(['10.6.0.2'])
    expect(t.logs.some((line) => line.includes('deleted ended login rate limit windows'))).toBe(true)

    await t.app.close()
    await insertWindows(t, [['10.6.0.3', '-1 second']])
    // Three intervals with the timer gone: nothing deletes the ended window.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(await addresses(t)).toEqual(['10.6.0.2', '10.6.0.3'])
  })
})

describe('fail closed', () => {
  test('database unreachable: 503 DB_UNAVAILABLE with Retry-After, even for the right password; counting resumes when it is back', async () => {
    let proxy: TcpProxy | undefined
    const t = await buildTestApp(LIMIT, {
      databaseUrl: async (url) => {
        proxy = await startTcpProxy(url)
        return proxy.url
      },
    })
    const { username, password } = await register(t.app)
    const user = { username, password }
    expect((await requestToken(t.app, user, { remoteAddress: '10.7.0.1' })).statusCode).toBe(200)

    // Every connection of the app's pool ends, and new ones are refused.
    await proxy!.cut()
    for (let i = 0; i < 3; i++) {
      const res = await requestToken(t.app, user, { remoteAddress: '10.7.0.1' })
      expect(res.statusCode).toBe(503)
      expect(res.headers['retry-after']).toBe('1')
      expect(res.json()).toEqual({
        statusCode: 503,
        code: 'DB_UNAVAILABLE',
        message: 'the database is unavailable; retry shortly',
      })
    }
    // The failures are the counting statement's, logged without its parameters.
    const failures = t.logs.filter((line) => line.includes('POST /auth/token failed'))
    expect(failures).toHaveLength(3)
    expect(failures.every((line) => line.includes('login_rate_limits'))).toBe(true)
    expect(failures.some((line) => line.includes('10.7.0.1'))).toBe(false)
    expect((await windowOf(t, '10.7.0.1'))?.hits).toBe(1)

    await proxy!.restore()
    expect((await requestToken(t.app, user, { remoteAddress: '10.7.0.1' })).statusCode).toBe(200)
    expect((await windowOf(t, '10.7.0.1'))?.hits).toBe(2)
  })

  test('the counter refused (privilege revoked) while users are readable: the right password gets no token', async () => {
    const t = await buildTestApp(LIMIT)
    const { username, password } = await register(t.app)
    const user = { username, password }
    // From the role the app connects as (the runtime role), on this one table.
    const role = decodeURIComponent(new URL(t.config.databaseUrl).username)
    await sql(t.adminUrl, `REVOKE ALL ON auth.login_rate_limits FROM "${role}"`)
    const res = await requestToken(t.app, user, { remoteAddress: '10.8.0.1' })
    expect(res.statusCode).toBe(500)
    expect(res.json()).toMatchObject({ code: 'INTERNAL_ERROR' })
    expect(res.json().access_token).toBeUndefined()
    expect(t.logs.some((line) => line.includes('permission denied for table login_rate_limits'))).toBe(true)
    // The users table still answers: only the count failed, and that alone refused the login.
    expect(await createUsersRepository(t.app.db).findForLogin(username)).toMatchObject({ username })
    // Registration is counted in the same table, and refused alike: no user written.
    const body = newUser()
    const refused = await t.app.inject({ method: 'POST', url: '/auth/users', payload: body })
    expect(refused.statusCode).toBe(500)
    expect(await sql(t.adminUrl, 'SELECT 1 FROM auth.users WHERE username = $1', [body.username])).toEqual([])
  })
})

describe('configuration', () => {
  test('ended windows are swept every 300 s by default; the interval is checked', async () => {
    expect((await primary).config.tokenRateLimit).toEqual({
      max: 10,
      windowMs: 60_000,
      sweepIntervalSeconds: 300,
    })
    for (const bad of ['-1', '86401', 'soon']) {
      expect(() =>
        loadConfig({
          DATABASE_URL: 'postgres://auth:pw@127.0.0.1:5432/app',
          AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS: bad,
        }),
      ).toThrow(/AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS/)
    }
  })
})
