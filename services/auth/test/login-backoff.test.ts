// The per-username login backoff, counted in auth.login_failures: two app instances
// on one database ("replicas") share it, from any client address. After
// AUTH_LOGIN_BACKOFF_AFTER_FAILURES consecutive failures a username's logins are refused
// without argon2 until the hold ends; each further failure doubles it, up to the max; a
// success clears it; unknown usernames are held back alike. Time passes by moving the
// database's timestamps, as the rate limit tests do: no test waits for a hold.
import { parseMetrics, sampleValue } from '@app/testkit'
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../src/config.js'
import { createLoginFailuresRepository } from '../src/db/login-failures-repository.js'
import { buildTestApp, register, requestToken, sql, type TestApp } from './helper.js'

const BACKOFF = {
  AUTH_LOGIN_BACKOFF_AFTER_FAILURES: '3',
  AUTH_LOGIN_BACKOFF_INITIAL_SECONDS: '60',
  AUTH_LOGIN_BACKOFF_MAX_SECONDS: '240',
}
const primary = buildTestApp(BACKOFF)
const replica = primary.then((first) => buildTestApp(BACKOFF, { replicaOf: first }))

let address = 0
/** A different client address each time: the backoff is per username, not per address. */
const nextAddress = () => `10.30.${Math.floor(++address / 250)}.${(address % 250) + 1}`

async function replicas() {
  const [first, second] = [await primary, await replica]
  const { username, password } = await register(first.app)
  return { first, second, apps: [first.app, second.app], user: { username, password } }
}

/** The row, with the hold its last failure set (as set, whenever this reads it: no clock race). */
async function rowOf(t: TestApp, username: string) {
  const rows = await sql<{ failures: number; hold_seconds: number | null }>(
    t.adminUrl,
    'SELECT failures, extract(epoch FROM blocked_until - last_failure_at)::float8 AS hold_seconds FROM auth.login_failures WHERE username = $1',
    [username],
  )
  return rows[0]
}

/** The hold ends now (as the database's clock says). */
const endHold = (t: TestApp, username: string) =>
  sql(
    t.adminUrl,
    "UPDATE auth.login_failures SET blocked_until = now() - interval '1 ms' WHERE username = $1",
    [username],
  )

const verifications = async (t: TestApp) =>
  sampleValue(parseMetrics((await t.app.inject({ url: '/metrics' })).body), 'auth_argon2_started_total', {
    operation: 'verify',
  }) ?? 0

describe('per username, across replicas and addresses', () => {
  test('3 failures, then 429 LOGIN_BACKOFF with Retry-After, even for the right password, without argon2', async () => {
    const { first, apps, user } = await replicas()
    const wrong = { username: user.username, password: 'wrong-password' }
    for (let i = 0; i < 3; i++) {
      const res = await requestToken(apps[i % 2]!, wrong, { remoteAddress: nextAddress() })
      expect(res.statusCode).toBe(401)
    }
    expect(await rowOf(first, user.username)).toMatchObject({ failures: 3 })
    expect((await rowOf(first, user.username))?.hold_seconds).toBeGreaterThan(55)

    const before = await verifications(first)
    const held = await requestToken(apps[0]!, user, { remoteAddress: nextAddress() })
    expect(held.statusCode).toBe(429)
    expect(held.json()).toMatchObject({ statusCode: 429, code: 'LOGIN_BACKOFF' })
    const retryAfter = Number(held.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(55)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(held.json().access_token).toBeUndefined()
    expect(await verifications(first)).toBe(before)
    // Refused attempts neither count nor lengthen the hold.
    expect((await requestToken(apps[1]!, wrong, { remoteAddress: nextAddress() })).statusCode).toBe(429)
    expect((await rowOf(first, user.username))?.failures).toBe(3)
  })

  test('each further failure doubles the hold, up to the max; a success clears the count', async () => {
    const { first, apps, user } = await replicas()
    const wrong = { username: user.username, password: 'wrong-password' }
    for (let i = 0; i < 3; i++) await requestToken(apps[i % 2]!, wrong, { remoteAddress: nextAddress() })
    const holds: number[] = []
    for (let failure = 4; failure <= 6; failure++) {
      await endHold(first, user.username)
      const res = await requestToken(apps[failure % 2]!, wrong, { remoteAddress: nextAddress() })
      expect(res.statusCode).toBe(401)
      const row = await rowOf(first, user.username)
      expect(row?.failures).toBe(failure)
      holds.push(Math.round(row!.hold_seconds!))
    }
    // 60 s after the 3rd, then 120, 240, and 240 again (the max).
    expect(holds).toEqual([120, 240, 240])

    await endHold(first, user.username)
    expect((await requestToken(apps[1]!, user, { remoteAddress: nextAddress() })).statusCode).toBe(200)
    expect(await rowOf(first, user.username)).toBeUndefined()
    // Counting starts over: three more failures before the next hold.
    for (let i = 0; i < 2; i++) {
      expect((await requestToken(apps[0]!, wrong, { remoteAddress: nextAddress() })).statusCode).toBe(401)
    }
    expect(await rowOf(first, user.username)).toMatchObject({ failures: 2, hold_seconds: null })
  })

  test('concurrent attempts from many addresses on both replicas: exactly the threshold reach argon2', async () => {
    const { first, apps, user } = await replicas()
    const wrong = { username: user.username, password: 'wrong-password' }
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        requestToken(apps[i % 2]!, wrong, { remoteAddress: nextAddress() }),
      ),
    )
    const statuses = answers.map((res) => res.statusCode).sort()
    expect(statuses).toEqual([...Array(3).fill(401), ...Array(17).fill(429)])
    // When the hold ends, one attempt of a new burst gets through, and holds the rest back again.
    await endHold(first, user.username)
    const next = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        requestToken(apps[i % 2]!, wrong, { remoteAddress: nextAddress() }),
      ),
    )
    expect(next.map((res) => res.statusCode).sort()).toEqual([401, ...Array(9).fill(429)])
    expect((await rowOf(first, user.username))?.failures).toBe(4)
  })

  test('an unknown username is held back alike, so the backoff tells nobody which usernames exist', async () => {
    const { first, apps, user } = await replicas()
    const known = { username: user.username, password: 'wrong-password' }
    const unknown = { username: `nobody_${Date.now()}`, password: 'wrong-password' }
    const answers = async (credentials: { username: string; password: string }) => {
      const seen: string[] = []
      for (let i = 0; i < 5; i++) {
        const res = await requestToken(apps[i % 2]!, credentials, { remoteAddress: nextAddress() })
        seen.push(`${res.statusCode} ${res.json().code} ${res.headers['retry-after'] ?? '-'}`)
      }
      return seen
    }
    const forKnown = await answers(known)
    const forUnknown = await answers(unknown)
    expect(forUnknown).toEqual(forKnown)
    expect(forKnown.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      '401 INVALID_CREDENTIALS',
      '401 INVALID_CREDENTIALS',
      '401 INVALID_CREDENTIALS',
      '429 LOGIN_BACKOFF',
      '429 LOGIN_BACKOFF',
    ])
    expect((await rowOf(first, unknown.username))?.failures).toBe(3)
  })

  test("a disabled account's right password is a failure: it does not clear the count", async () => {
    const { first, apps, user } = await replicas()
    await requestToken(apps[0]!, { ...user, password: 'wrong-password' }, { remoteAddress: nextAddress() })
    await sql(first.adminUrl, 'UPDATE auth.users SET disabled = true WHERE username = $1', [user.username])
    expect((await requestToken(apps[1]!, user, { remoteAddress: nextAddress() })).statusCode).toBe(401)
    expect((await rowOf(first, user.username))?.failures).toBe(2)
  })

  test('failures older than AUTH_LOGIN_FAILURES_RESET_SECONDS are forgotten: the next one counts 1', async () => {
    const { first, apps, user } = await replicas()
    for (let i = 0; i < 3; i++) {
      await requestToken(apps[i % 2]!, { ...user, password: 'wrong' }, { remoteAddress: nextAddress() })
    }
    await sql(
      first.adminUrl,
      "UPDATE auth.login_failures SET last_failure_at = now() - interval '1 day', blocked_until = now() - interval '1 day' WHERE username = $1",
      [user.username],
    )
    await requestToken(apps[0]!, { ...user, password: 'wrong' }, { remoteAddress: nextAddress() })
    expect(await rowOf(first, user.username)).toMatchObject({ failures: 1, hold_seconds: null })
  })
})

describe('with the argon2 queue full', () => {
  test('a login refused 503 BUSY is not charged: a flood cannot lock an account out', async () => {
    const t = await buildTestApp({
      ...BACKOFF,
      AUTH_ARGON2_CONCURRENCY: '1',
      AUTH_ARGON2_MAX_WAITING: '0',
    })
    const user = await register(t.app)
    const answers = await Promise.all(
      Array.from({ length: 32 }, () =>
        requestToken(
          t.app,
          { username: user.username, password: 'wrong-password' },
          { remoteAddress: nextAddress() },
        ),
      ),
    )
    const outcomes = answers.map((res) => `${res.statusCode} ${res.json().code}`)
    expect(outcomes).toContain('503 BUSY')
    expect(
      outcomes.every((outcome) =>
        ['401 INVALID_CREDENTIALS', '429 LOGIN_BACKOFF', '503 BUSY'].includes(outcome),
      ),
    ).toBe(true)
    // Only the attempts whose password was checked count.
    const checked = outcomes.filter((outcome) => outcome.startsWith('401')).length
    expect((await rowOf(t, user.username))?.failures).toBe(checked)
    // The queue free again, the owner logs in.
    await endHold(t, user.username)
    const right = { username: user.username, password: user.password }
    expect((await requestToken(t.app, right, { remoteAddress: nextAddress() })).statusCode).toBe(200)
  })
})

describe('forgotten failures are swept', () => {
  const insertRows = (
    t: TestApp,
    rows: [username: string, lastFailure: string, blockedUntil: string | null][],
  ) =>
    sql(
      t.adminUrl,
      `INSERT INTO auth.login_failures (username, failures, last_failure_at, blocked_until)
       SELECT username, 5, now() + last_failure::interval, now() + blocked_until::interval
       FROM unnest($1::text[], $2::text[], $3::text[]) AS r(username, last_failure, blocked_until)`,
      [rows.map(([name]) => name), rows.map(([, last]) => last), rows.map(([, , until]) => until)],
    )
  const usernames = async (t: TestApp) =>
    (
      await sql<{ username: string }>(
        t.adminUrl,
        'SELECT username FROM auth.login_failures ORDER BY username',
      )
    ).map((row) => row.username)

  test('deleteForgotten deletes rows quiet for the reset interval whose hold has ended, in batches', async () => {
    const t = await buildTestApp({ AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS: '0' })
    await insertRows(t, [
      ['stale_a', '-2 days', null],
      ['stale_b', '-25 hours', '-1 hour'],
      ['stale_c', '-2 days', '-1 day'],
      ['recent', '-1 hour', null],
      // Quiet for long, but still held back (a hold longer than the reset interval): kept.
      ['held', '-2 days', '1 hour'],
    ])
    const repository = createLoginFailuresRepository(t.app.db, t.config.loginBackoff)
    expect(await repository.deleteForgotten(2)).toBe(2)
    expect(await repository.deleteForgotten(2)).toBe(1)
    expect(await repository.deleteForgotten(2)).toBe(0)
    expect(await usernames(t)).toEqual(['held', 'recent'])
  })

  test('every process sweeps on its timer', async () => {
    const t = await buildTestApp({ AUTH_TOKEN_RATE_LIMIT_SWEEP_INTERVAL_SECONDS: '1' })
    await insertRows(t, [
      ['swept', '-2 days', null],
      ['kept', '-1 minute', null],
    ])
    await expect.poll(() => usernames(t), { timeout: 10_000, interval: 200 }).toEqual(['kept'])
    // The sweep logs after its delete commits: the line can come a moment after the row is gone.
    await expect
      .poll(() => t.logs.some((line) => line.includes('deleted forgotten login failures')), {
        timeout: 10_000,
      })
      .toBe(true)
  })
})

describe('configuration', () => {
  test('defaults: held back after 5 failures, 1 s doubling up to 15 min, forgotten after a day', async () => {
    const t = await buildTestApp()
    expect(t.config.loginBackoff).toEqual({
      afterFailures: 5,
      initialMs: 1000,
      maxMs: 900_000,
      resetMs: 86_400_000,
    })
    const env = {
      DATABASE_URL: t.config.databaseUrl,
      AUTH_JWT_PRIVATE_KEY: t.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    }
    expect(() =>
      loadConfig({ ...env, AUTH_LOGIN_BACKOFF_INITIAL_SECONDS: '60', AUTH_LOGIN_BACKOFF_MAX_SECONDS: '30' }),
    ).toThrow(/AUTH_LOGIN_BACKOFF_MAX_SECONDS \(30\) must be at least AUTH_LOGIN_BACKOFF_INITIAL_SECONDS/)
    for (const name of ['AUTH_LOGIN_BACKOFF_AFTER_FAILURES', 'AUTH_LOGIN_FAILURES_RESET_SECONDS']) {
      expect(() => loadConfig({ ...env, [name]: '0' })).toThrow(new RegExp(name))
    }
  })
})
