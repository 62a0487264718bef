// The whole flow with the real auth service: a process started from
// services/auth/dist/server.js on the same test database (its own role and
// schema), real users, real logins, real tokens. Billing talks to it only over
// HTTP, exactly as in production.
import { randomUUID } from 'node:crypto'
import type { ServiceProcess } from '@app/testkit'
import { createSigningKey, signToken } from '@app/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearer, buildTestApp, countRows, createDatabase, type TestApp, type TestDatabase } from './helper.js'
import { signUp, startAuth } from './support/auth-process.js'

let database: TestDatabase
let auth: ServiceProcess
let t: TestApp

interface Account {
  id: string
  token: string
}

let alice: Account
let bob: Account
/** Creates and retires plans: an admin's token carries billing:plans:write. */
let admin: Account

beforeAll(async () => {
  database = await createDatabase()
  auth = await startAuth({ databaseUrl: database.authUrl })
  t = await buildTestApp({ AUTH_URL: auth.baseUrl }, database)
  alice = await signUp(auth, 'alice')
  bob = await signUp(auth, 'bob')
  admin = await signUp(auth, 'admin', { adminOf: database.adminUrl })
})
afterAll(() => auth?.stop())

const post = (url: string, who: Account, payload?: object, idempotencyKey?: string) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { ...bearer(who.token), ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    ...(payload ? { payload } : {}),
  })
const get = (url: string, who: Account) => t.app.inject({ url, headers: bearer(who.token) })

async function newPlan(category: string): Promise<string> {
  const res = await post('/billing/subscriptions', admin, { category, priceMinor: 1500, currency: 'EUR' })
  expect(res.statusCode).toBe(201)
  return res.json().id
}

test("a user's real token cannot create or retire a plan: 403 INSUFFICIENT_SCOPE, nothing written", async () => {
  const before = await countRows(t.app, 'subscriptions')
  const create = await post('/billing/subscriptions', alice, {
    category: 'nope',
    priceMinor: 1,
    currency: 'EUR',
  })
  expect(create.statusCode).toBe(403)
  expect(create.json().code).toBe('INSUFFICIENT_SCOPE')
  expect(create.headers['www-authenticate']).toBe(
    'Bearer error="insufficient_scope", scope="billing:plans:write"',
  )
  const retire = await post(`/billing/subscriptions/${await newPlan('kept')}/retire`, alice)
  expect(retire.statusCode).toBe(403)
  expect(await countRows(t.app, 'subscriptions')).toBe(before + 1)
})

test("auth's metadata names the issuer billing accepts, and the token's iss is it", async () => {
  const response = await fetch(`${auth.baseUrl}/.well-known/oauth-authorization-server`)
  const metadata = (await response.json()) as { issuer: string }
  expect(metadata.issuer).toBe(t.config.auth.issuer)
  const claims = JSON.parse(Buffer.from(admin.token.split('.')[1]!, 'base64url').toString())
  expect(claims).toMatchObject({ iss: metadata.issuer, scope: 'users:read billing:plans:write' })
  expect(claims.aud).toContain('billing')
})

test('a retired plan: gone from the list, no new subscribers, existing subscriptions go on', async () => {
  const planId = await newPlan('retiring')
  const bobs = (await post('/billing/user-subscriptions', bob, { subscriptionId: planId })).json()
  const retired = await post(`/billing/subscriptions/${planId}/retire`, admin)
  expect(retired.statusCode).toBe(200)
  expect(retired.json().retiredAt).not.toBeNull()

  const listed = (await t.app.inject('/billing/subscriptions?limit=100')).json().items as { id: string }[]
  expect(listed.map((p) => p.id)).not.toContain(planId)
  const refused = await post('/billing/user-subscriptions', alice, { subscriptionId: planId })
  expect(refused.statusCode).toBe(409)
  expect(refused.json().code).toBe('PLAN_RETIRED')

  expect((await get(`/billing/user-subscriptions/${bobs.id}`, bob)).json().status).toBe('active')
  const cancelled = await post(`/billing/user-subscriptions/${bobs.id}/cancel`, bob)
  expect(cancelled.json().status).toBe('cancelled')
})

test('subscribe, read, list, cancel: the user is the one of the token from auth', async () => {
  const planId = await newPlan('flow')
  const created = await post('/billing/user-subscriptions', alice, { subscriptionId: planId })
  expect(created.statusCode).toBe(201)
  const subscription = created.json()
  expect(subscription).toMatchObject({
    userId: alice.id,
    subscriptionId: planId,
    status: 'active',
    cancelledAt: null,
  })

  expect((await get(`/billing/user-subscriptions/${subscription.id}`, alice)).json()).toEqual(subscription)
  const list = await get('/billing/user-subscriptions', alice)
  expect(list.json().items.map((s: { id: string }) => s.id)).toContain(subscription.id)

  const again = await post('/billing/user-subscriptions', alice, { subscriptionId: planId })
  expect(again.statusCode).toBe(409)
  expect(again.json()).toMatchObject({
    code: 'ALREADY_SUBSCRIBED',
    details: { userSubscriptionId: subscription.id },
  })

  const cancelled = await post(`/billing/user-subscriptions/${subscription.id}/cancel`, alice)
  expect(cancelled.statusCode).toBe(200)
  expect(cancelled.json()).toMatchObject({ id: subscription.id, status: 'cancelled' })
  expect(cancelled.json().cancelledAt).not.toBeNull()
  expect(Date.parse(cancelled.json().updatedAt)).toBeGreaterThanOrEqual(Date.parse(subscription.updatedAt))

  // Cancelling is final and safe to repeat.
  const twice = await post(`/billing/user-subscriptions/${subscription.id}/cancel`, alice)
  expect(twice.statusCode).toBe(200)
  expect(twice.json()).toEqual(cancelled.json())

  // A cancelled subscription is history: the plan can be taken again.
  expect((await post('/billing/user-subscriptions', alice, { subscriptionId: planId })).statusCode).toBe(201)
})

test("another user's subscription is 404, to read and to cancel, and stays untouched", async () => {
  const planId = await newPlan('private')
  const mine = (await post('/billing/user-subscriptions', alice, { subscriptionId: planId })).json()

  const read = await get(`/billing/user-subscriptions/${mine.id}`, bob)
  expect(read.statusCode).toBe(404)
  expect(read.json().code).toBe('USER_SUBSCRIPTION_NOT_FOUND')
  const cancel = await post(`/billing/user-subscriptions/${mine.id}/cancel`, bob)
  expect(cancel.statusCode).toBe(404)
  expect(cancel.json().code).toBe('USER_SUBSCRIPTION_NOT_FOUND')
  const listed = (await get('/billing/user-subscriptions', bob)).json().items as { userId: string }[]
  expect(listed.every((s) => s.userId === bob.id)).toBe(true)

  expect((await get(`/billing/user-subscriptions/${mine.id}`, alice)).json().status).toBe('active')
})

test('20 concurrent identical subscribe requests with one Idempotency-Key: exactly one row', async () => {
  const planId = await newPlan('idempotent')
  const key = randomUUID()
  const responses = await Promise.all(
    Array.from({ length: 20 }, () =>
      post('/billing/user-subscriptions', bob, { subscriptionId: planId }, key),
    ),
  )
  expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(201))
  expect(new Set(responses.map((r) => r.json().id)).size).toBe(1)
  const rows = await t.app.db.execute<{ n: number }>(
    `SELECT count(*)::int AS n FROM billing.user_subscriptions WHERE subscription_id = '${planId}'`,
  )
  expect(rows.rows[0]!.n).toBe(1)
})

test('an unknown plan is 422 UNKNOWN_SUBSCRIPTION naming body.subscriptionId', async () => {
  const before = await countRows(t.app, 'user_subscriptions')
  const res = await post('/billing/user-subscriptions', alice, { subscriptionId: randomUUID() })
  expect(res.statusCode).toBe(422)
  expect(res.json()).toMatchObject({ code: 'UNKNOWN_SUBSCRIPTION', details: [{ field: 'subscriptionId' }] })
  expect(await countRows(t.app, 'user_subscriptions')).toBe(before)
})

test('a user auth no longer knows (disabled after login) is 422 UNKNOWN_USER, and nothing is written', async () => {
  const carol = await signUp(auth, 'carol')
  const planId = await newPlan('carol')
  // The token stays valid until it expires; auth now answers 404 for the user.
  const admin = new pg.Client({ connectionString: database.adminUrl })
  await admin.connect()
  await admin.query('UPDATE auth.users SET disabled = true WHERE id = $1', [carol.id])
  await admin.end()

  const before = await countRows(t.app, 'user_subscriptions')
  const res = await post('/billing/user-subscriptions', carol, { subscriptionId: planId }, 'carol-key')
  expect(res.statusCode).toBe(422)
  expect(res.json().code).toBe('UNKNOWN_USER')
  expect(await countRows(t.app, 'user_subscriptions')).toBe(before)
})

describe("tokens billing must refuse, checked against the real auth's keys", () => {
  test.each([
    [
      'signed by a key auth does not publish',
      async () => signToken(await createSigningKey(), { sub: alice.id }),
    ],
    [
      'alg none, with the claims of a real token',
      async () => {
        const [, payload] = alice.token.split('.')
        return `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`
      },
    ],
    [
      "a real token whose sub was changed to another user's",
      async () => {
        const [header, payload, signature] = alice.token.split('.')
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString())
        const forged = Buffer.from(JSON.stringify({ ...claims, sub: bob.id })).toString('base64url')
        return `${header}.${forged}.${signature}`
      },
    ],
  ])('%s: 401', async (_name, makeToken) => {
    const res = await t.app.inject({ url: '/billing/user-subscriptions', headers: bearer(await makeToken()) })
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('INVALID_TOKEN')
  })
})

// Last: stops auth.
describe('auth down', () => {
  test('503 AUTH_UNAVAILABLE and nothing written; finished idempotent requests still replay', async () => {
    const planId = await newPlan('outage')
    const done = await post('/billing/user-subscriptions', alice, { subscriptionId: planId }, 'before-outage')
    expect(done.statusCode).toBe(201)
    const otherPlan = await newPlan('outage-2')

    await auth.stop()
    const rowsBefore = await countRows(t.app, 'user_subscriptions')
    const keysBefore = await countRows(t.app, 'idempotency_keys')
    for (const key of [undefined, 'during-outage']) {
      const res = await post('/billing/user-subscriptions', alice, { subscriptionId: otherPlan }, key)
      expect(res.statusCode).toBe(503)
      expect(res.json().code).toBe('AUTH_UNAVAILABLE')
      expect(res.headers['retry-after']).toBe('1')
    }
    expect(await countRows(t.app, 'user_subscriptions')).toBe(rowsBefore)
    expect(await countRows(t.app, 'idempotency_keys')).toBe(keysBefore)

    // Tokens still verify from the cached keys; reads need no auth.
    expect((await get(`/billing/user-subscriptions/${done.json().id}`, alice)).statusCode).toBe(200)
    const replay = await post(
      '/billing/user-subscriptions',
      alice,
      { subscriptionId: planId },
      'before-outage',
    )
    expect(replay.statusCode).toBe(201)
    expect(replay.json()).toEqual(done.json())
  })
})
