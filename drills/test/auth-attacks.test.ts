// Attacks on authentication, against the real processes: password guessing on
// /auth/token (rate limited), forged tokens (another key, expired, `alg: none`,
// HS256 keyed with the public key, wrong issuer or audience, a tampered payload)
// refused by both services, and the password hash never leaving auth, in any
// response or any log line.
import { promoteToAdmin } from '@app/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { migratedDatabase, query } from './support/databases.js'
import { saveFigures } from './support/figures.js'
import { bearer, type DrillResponse, form, json, send } from './support/http.js'
import { killLeftovers, type ServiceProcess } from './support/service-process.js'
import { newUser, register, startAuth, startBilling, type User } from './support/stack.js'
import { forgedTokens, newSigningKey, type SigningKey, validToken } from './support/tokens.js'

let adminUrl: string
let key: SigningKey
let auth: ServiceProcess
let billing: ServiceProcess
let victim: User
/** Every response the drills in this file received, to search for what must never appear. */
const seen: DrillResponse[] = []

async function sendSeen(target: ServiceProcess, request: Parameters<typeof send>[1]) {
  const response = await send(target.baseUrl, request)
  seen.push(response)
  return response
}

beforeAll(async () => {
  adminUrl = (await migratedDatabase('attacks')).url
  key = await newSigningKey()
  // The most talkative log level: whatever the service could leak, it would leak here.
  auth = await startAuth(adminUrl, key, { env: { LOG_LEVEL: 'trace' } })
  billing = await startBilling(adminUrl, auth.baseUrl)
  victim = await register(auth)
})

afterAll(async () => {
  await killLeftovers()
  saveFigures(import.meta.filename)
})

describe('password guessing on POST /auth/token', () => {
  test('is cut off after AUTH_TOKEN_RATE_LIMIT_MAX attempts with 429 RATE_LIMITED, even for the right password', async () => {
    const limited = await startAuth(adminUrl, key, { env: { AUTH_TOKEN_RATE_LIMIT_MAX: '5' } })
    // An account of its own: five failures also start its per-username backoff
    // (shared through the database), which must not hold back the victim's logins below.
    const target = await register(limited)
    const guess = (password: string, headers: Record<string, string> = {}) => {
      const request = form({ username: target.username, password })
      return sendSeen(limited, {
        method: 'POST',
        path: '/auth/token',
        headers: { ...request.headers, ...headers },
        body: request.body,
        hostile: true,
      })
    }
    for (let attempt = 1; attempt <= 5; attempt++) {
      const response = await guess(`wrong-guess-${attempt}`)
      expect(response.status).toBe(401)
      expect(response.json().code).toBe('INVALID_CREDENTIALS')
    }
    const blocked = await guess('wrong-guess-6')
    expect(blocked.status).toBe(429)
    expect(blocked.json().code).toBe('RATE_LIMITED')
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    // The right password gets no answer either: the guesser cannot tell it found it.
    expect((await guess(target.password)).status).toBe(429)
    // Nor does claiming to be someone else through a forwarding header help (TRUST_PROXY is off).
    expect((await guess(target.password, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429)
    // Other routes are not limited.
    expect((await send(limited.baseUrl, { method: 'GET', path: '/auth/.well-known/jwks.json' })).status).toBe(
      200,
    )
  })
})

describe('forged tokens', () => {
  const plan = { category: 'forged', priceMinor: 100, currency: 'EUR' }

  test('a token auth really issued is accepted by both services (the control for the forgeries below)', async () => {
    // With the admin scope, as auth issues it to an admin: creating a plan takes it.
    const token = await validToken(key, victim, 'users:read billing:plans:write')
    const me = await sendSeen(auth, { method: 'GET', path: '/auth/users/me', headers: bearer(token) })
    expect({ status: me.status, id: me.json().id }).toEqual({ status: 200, id: victim.id })
    const mine = await sendSeen(billing, {
      method: 'GET',
      path: '/billing/user-subscriptions',
      headers: bearer(token),
    })
    expect(mine.status).toBe(200)
    const created = await sendSeen(billing, {
      method: 'POST',
      path: '/billing/subscriptions',
      headers: { ...bearer(token), ...json(plan).headers },
      body: JSON.stringify(plan),
    })
    expect(created.status).toBe(201)
  })

  test('are refused by both services with 401 INVALID_TOKEN, whatever is wrong with them, and write nothing', async () => {
    const forged = await forgedTokens(key, victim)
    const before = await query<{ n: number }>(
      adminUrl,
      'SELECT count(*)::int AS n FROM billing.subscriptions',
    )
    const outcomes: Record<string, string> = {}
    const expected: Record<string, string> = {}
    for (const [kind, token] of Object.entries(forged)) {
      const attempts: [ServiceProcess, Parameters<typeof send>[1]][] = [
        [auth, { method: 'GET', path: '/auth/users/me' }],
        [auth, { method: 'GET', path: `/auth/users/${victim.id}` }],
        [auth, { method: 'GET', path: '/auth/users?limit=5' }],
        [billing, { method: 'GET', path: '/billing/user-subscriptions' }],
        [
          billing,
          {
            method: 'POST',
            path: '/billing/subscriptions',
            headers: json(plan).headers,
            body: JSON.stringify(plan),
          },
        ],
        [
          billing,
          {
            method: 'POST',
            path: '/billing/user-subscriptions',
            headers: json({}).headers,
            body: JSON.stringify({ subscriptionId: victim.id }),
          },
        ],
      ]
      for (const [target, request] of attempts) {
        const response = await sendSeen(target, {
          ...request,
          headers: { ...request.headers, ...bearer(token) },
          hostile: true,
        })
        const label = `${kind}: ${target.name} ${request.method} ${request.path}`
        outcomes[label] = `${response.status} ${response.json().code}`
        expected[label] = '401 INVALID_TOKEN'
      }
    }
    expect(outcomes).toEqual(expected)
    const after = await query<{ n: number }>(adminUrl, 'SELECT count(*)::int AS n FROM billing.subscriptions')
    expect(after).toEqual(before)
  })
})

describe('the password hash', () => {
  test('never appears in a response or a log line, nor does the password', async () => {
    const users: User[] = [victim]
    for (let i = 0; i < 2; i++) {
      const body = newUser()
      const created = await sendSeen(auth, { method: 'POST', path: '/auth/users', ...json(body) })
      expect(created.status).toBe(201)
      users.push({ ...body, id: created.json<{ id: string }>().id })
    }
    // The error paths too: a duplicate registration, a wrong password.
    const { id: _id, ...taken } = users[1]!
    expect((await sendSeen(auth, { method: 'POST', path: '/auth/users', ...json(taken) })).status).toBe(409)
    // One of them an admin: the full list (users:read) is read too, every email in it.
    await promoteToAdmin(adminUrl, users[2]!.username)
    const wrong = form({ username: victim.username, password: `${victim.password}-wrong` })
    expect((await sendSeen(auth, { method: 'POST', path: '/auth/token', ...wrong })).status).toBe(401)
    for (const user of users) {
      const credentials = form({ username: user.username, password: user.password })
      const loggedIn = await sendSeen(auth, { method: 'POST', path: '/auth/token', ...credentials })
      expect(loggedIn.status).toBe(200)
      const token = loggedIn.json<{ access_token: string }>().access_token
      for (const path of [
        '/auth/users/me',
        `/auth/users/${user.id}`,
        `/auth/users/${victim.id}`,
        '/auth/users?limit=100',
      ]) {
        // Listing users takes users:read: the admin's 200, the others' 403.
        const expected = path.startsWith('/auth/users?') && user !== users[2] ? 403 : 200
        expect((await sendSeen(auth, { method: 'GET', path, headers: bearer(token) })).status, path).toBe(
          expected,
        )
      }
    }

    const hashes = (
      await query<{ password_hash: string }>(adminUrl, 'SELECT password_hash FROM auth.users')
    ).map((row) => row.password_hash)
    expect(hashes.length).toBeGreaterThanOrEqual(users.length)
    expect(hashes.every((hash) => hash.startsWith('$argon2id$'))).toBe(true)
    const secrets = [...hashes, '$argon2', ...users.map((user) => user.password)]
    const responses = seen.map((r) => `${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${r.text}`)
    // The log did record these requests, so an absence below means something.
    expect(auth.lines.filter((line) => line.includes('"/auth/token"')).length).toBeGreaterThan(0)
    for (const secret of secrets) {
      expect(responses.filter((text) => text.includes(secret))).toEqual([])
      expect([...auth.lines, ...billing.lines].filter((line) => line.includes(secret))).toEqual([])
    }
  })
})
