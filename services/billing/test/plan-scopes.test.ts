// Plans are an admin's business: creating and retiring need the billing:plans:write
// scope (403 INSUFFICIENT_SCOPE otherwise, with the RFC 6750 challenge). Retiring
// hides a plan from the list and keeps it readable by id; it is final and safe to
// repeat. (Subscribing to a retired plan, with the real auth: e2e.test.ts.)
import { randomUUID } from 'node:crypto'
import { createSigningKey, type JwksServer, type SigningKey, signToken, startJwksServer } from '@app/testkit'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { PLANS_WRITE } from '../src/scopes.js'
import { bearer, buildTestApp, countRows, type TestApp } from './helper.js'

let key: SigningKey
let keys: JwksServer
let t: TestApp
let adminToken: string
let userToken: string

beforeAll(async () => {
  key = await createSigningKey()
  keys = await startJwksServer([key])
  t = await buildTestApp({ AUTH_URL: keys.url })
  adminToken = await signToken(key, { scope: `users:read ${PLANS_WRITE}` })
  // What auth gives an ordinary user: no scope claim; or scopes, but not this one.
  userToken = await signToken(key)
})
afterAll(() => keys.close())

const plan = { category: 'retirable', priceMinor: 500, currency: 'EUR' }
const post = (url: string, token: string, payload?: object, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { ...bearer(token), ...headers },
    ...(payload ? { payload } : {}),
  })

async function newPlan(category = plan.category): Promise<{ id: string }> {
  const res = await post('/billing/subscriptions', adminToken, { ...plan, category })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

describe('billing:plans:write', () => {
  test('creating a plan without it is 403 INSUFFICIENT_SCOPE naming the scope, and nothing is written', async () => {
    const before = await countRows(t.app, 'subscriptions')
    for (const token of [userToken, await signToken(key, { scope: 'users:read' })]) {
      const res = await post('/billing/subscriptions', token, plan)
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ statusCode: 403, code: 'INSUFFICIENT_SCOPE' })
      expect(res.json().message).toContain(PLANS_WRITE)
      expect(res.headers['www-authenticate']).toBe(
        `Bearer error="insufficient_scope", scope="${PLANS_WRITE}"`,
      )
    }
    expect(await countRows(t.app, 'subscriptions')).toBe(before)
  })

  test('retiring without it is 403, without a token 401; the plan stays offered', async () => {
    const { id } = await newPlan('kept')
    expect((await post(`/billing/subscriptions/${id}/retire`, userToken)).statusCode).toBe(403)
    const anonymous = await t.app.inject({ method: 'POST', url: `/billing/subscriptions/${id}/retire` })
    expect(anonymous.statusCode).toBe(401)
    expect((await t.app.inject(`/billing/subscriptions/${id}`)).json().retiredAt).toBeNull()
  })
})

describe('POST /billing/subscriptions/{id}/retire', () => {
  test('retires the plan: not listed any more, still readable by id with its retiredAt', async () => {
    const { id } = await newPlan('to-retire')
    const listed = async () =>
      ((await t.app.inject('/billing/subscriptions?limit=100')).json().items as { id: string }[]).map(
        (p) => p.id,
      )
    expect(await listed()).toContain(id)

    const res = await post(`/billing/subscriptions/${id}/retire`, adminToken)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id, retiredAt: expect.any(String) })
    const rows = await t.app.db.execute<{ retired_at: Date | null }>(
      sql`SELECT retired_at FROM billing.subscriptions WHERE id = ${id}`,
    )
    expect(rows.rows[0]!.retired_at).not.toBeNull()

    expect(await listed()).not.toContain(id)
    const get = await t.app.inject(`/billing/subscriptions/${id}`)
    expect(get.statusCode).toBe(200)
    expect(get.json()).toEqual(res.json())
  })

  test('is safe to repeat: a second retirement answers 200 with the first retiredAt', async () => {
    const { id } = await newPlan('twice')
    const first = await post(`/billing/subscriptions/${id}/retire`, adminToken)
    const second = await post(`/billing/subscriptions/${id}/retire`, adminToken)
    expect(second.statusCode).toBe(200)
    expect(second.json()).toEqual(first.json())
  })

  test('replays with the same Idempotency-Key', async () => {
    const { id } = await newPlan('keyed')
    const headers = { 'idempotency-key': `retire-${id}` }
    const first = await post(`/billing/subscriptions/${id}/retire`, adminToken, undefined, headers)
    const again = await post(`/billing/subscriptions/${id}/retire`, adminToken, undefined, headers)
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual(first.json())
  })

  test('an unknown plan is 404 SUBSCRIPTION_NOT_FOUND; a malformed id 422', async () => {
    const missing = await post(`/billing/subscriptions/${randomUUID()}/retire`, adminToken)
    expect(missing.statusCode).toBe(404)
    expect(missing.json().code).toBe('SUBSCRIPTION_NOT_FOUND')
    expect((await post('/billing/subscriptions/nope/retire', adminToken)).statusCode).toBe(422)
  })
})
