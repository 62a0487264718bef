// Idempotency-Key on POST routes, against real Postgres: concurrent retries write
// once, a different request with the same key is refused, and keys are per user.
import { randomUUID } from 'node:crypto'
import { createSigningKey, type JwksServer, type SigningKey, signToken, startJwksServer } from '@app/testkit'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { deleteExpiredKeys } from '../src/idempotency/idempotency-repository.js'
import { PLANS_WRITE } from '../src/scopes.js'
import { bearer, buildTestApp, countRows, type TestApp } from './helper.js'

let key: SigningKey
let keys: JwksServer
let t: TestApp
let token: string

beforeAll(async () => {
  key = await createSigningKey()
  keys = await startJwksServer([key])
  t = await buildTestApp({ AUTH_URL: keys.url })
  // An admin's token: creating plans takes the billing:plans:write scope.
  token = await signToken(key, { scope: PLANS_WRITE })
})
afterAll(() => keys.close())

function createPlan(payload: unknown, idempotencyKey?: string, as = token) {
  return t.app.inject({
    method: 'POST',
    url: '/billing/subscriptions',
    headers: { ...bearer(as), ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    payload: payload as object,
  })
}

const plansNamed = async (category: string) =>
  (
    await t.app.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM billing.subscriptions WHERE category = ${category}`,
    )
  ).rows[0]!.n

test('20 concurrent identical requests with one key: one row, twenty identical answers', async () => {
  const payload = { category: 'concurrent', priceMinor: 500, currency: 'EUR' }
  const idempotencyKey = randomUUID()
  const responses = await Promise.all(Array.from({ length: 20 }, () => createPlan(payload, idempotencyKey)))
  expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(201))
  const bodies = new Set(responses.map((r) => r.body))
  expect(bodies.size).toBe(1)
  expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(19)
  expect(await plansNamed('concurrent')).toBe(1)
})

test('a later retry returns the original status and body and writes nothing', async () => {
  const payload = { category: 'retry', priceMinor: 700, currency: 'USD' }
  const first = await createPlan(payload, 'retry-key')
  expect(first.statusCode).toBe(201)
  expect(first.headers['idempotent-replayed']).toBeUndefined()
  const keysBefore = await countRows(t.app, 'idempotency_keys')
  // Same body with its keys in another order: the same request.
  const again = await createPlan({ currency: 'USD', priceMinor: 700, category: 'retry' }, 'retry-key')
  expect(again.statusCode).toBe(201)
  expect(again.json()).toEqual(first.json())
  expect(again.headers['idempotent-replayed']).toBe('true')
  expect(await plansNamed('retry')).toBe(1)
  expect(await countRows(t.app, 'idempotency_keys')).toBe(keysBefore)
})

test('the same key with a different body: 422 IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
  expect(
    (await createPlan({ category: 'reuse-a', priceMinor: 1, currency: 'EUR' }, 'reuse-key')).statusCode,
  ).toBe(201)
  const res = await createPlan({ category: 'reuse-b', priceMinor: 1, currency: 'EUR' }, 'reuse-key')
  expect(res.statusCode).toBe(422)
  expect(res.json()).toMatchObject({
    code: 'IDEMPOTENCY_KEY_REUSED',
    details: [{ in: 'headers', field: 'idempotency-key' }],
  })
  expect(await plansNamed('reuse-b')).toBe(0)
})

test('concurrent different bodies with one key: exactly one is executed, the others are refused', async () => {
  const idempotencyKey = randomUUID()
  const responses = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      createPlan({ category: `race-${i % 2}`, priceMinor: 1, currency: 'EUR' }, idempotencyKey),
    ),
  )
  const created = responses.filter((r) => r.statusCode === 201)
  const refused = responses.filter((r) => r.statusCode === 422)
  expect(created.length + refused.length).toBe(10)
  expect(new Set(created.map((r) => r.json().id)).size).toBe(1)
  expect((await plansNamed('race-0')) + (await plansNamed('race-1'))).toBe(1)
})

test('keys are per user: two users may use the same key independently', async () => {
  const other = await signToken(key, { sub: randomUUID(), scope: PLANS_WRITE })
  const payload = { category: 'per-user', priceMinor: 1, currency: 'EUR' }
  const a = await createPlan(payload, 'shared-key')
  const b = await createPlan(payload, 'shared-key', other)
  expect([a.statusCode, b.statusCode]).toEqual([201, 201])
  expect(a.json().id).not.toBe(b.json().id)
  expect(b.headers['idempotent-replayed']).toBeUndefined()
  expect(await plansNamed('per-user')).toBe(2)
})

test('the same key on another route is a different request: 422', async () => {
  expect(
    (await createPlan({ category: 'route', priceMinor: 1, currency: 'EUR' }, 'route-key')).statusCode,
  ).toBe(201)
  const res = await t.app.inject({
    method: 'POST',
    url: `/billing/user-subscriptions/${randomUUID()}/cancel`,
    headers: { ...bearer(token), 'idempotency-key': 'route-key' },
  })
  expect(res.statusCode).toBe(422)
  expect(res.json().code).toBe('IDEMPOTENCY_KEY_REUSED')
})

test('without a key, every request is executed', async () => {
  const payload = { category: 'no-key', priceMinor: 1, currency: 'EUR' }
  expect((await createPlan(payload)).statusCode).toBe(201)
  expect((await createPlan(payload)).statusCode).toBe(201)
  expect(await plansNamed('no-key')).toBe(2)
})

test('a failed request stores nothing, so its retry runs again', async () => {
  const keysBefore = await countRows(t.app, 'idempotency_keys')
  const url = `/billing/user-subscriptions/${randomUUID()}/cancel`
  for (let i = 0; i < 2; i++) {
    const res = await t.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(token), 'idempotency-key': 'failing' },
    })
    expect(res.statusCode).toBe(404)
    expect(res.headers['idempotent-replayed']).toBeUndefined()
  }
  expect(await countRows(t.app, 'idempotency_keys')).toBe(keysBefore)
})

test.each([
  ['too long', 'k'.repeat(256)],
  ['with a space', 'two words'],
])('a malformed key (%s) is 422 naming headers.idempotency-key', async (_name, value) => {
  const res = await createPlan({ category: 'bad-key', priceMinor: 1, currency: 'EUR' }, value)
  expect(res.statusCode).toBe(422)
  expect(res.json().message).toMatch(/^headers\.idempotency-key /)
  expect(await plansNamed('bad-key')).toBe(0)
})

describe('retention', () => {
  const ageKey = (k: string, seconds: number) =>
    t.app.db.execute(
      sql`UPDATE billing.idempotency_keys SET created_at = now() - make_interval(secs => ${seconds}) WHERE key = ${k}`,
    )

  test('after the retention period a key is free again', async () => {
    const payload = { category: 'expired', priceMinor: 1, currency: 'EUR' }
    const first = await createPlan(payload, 'old-key')
    await ageKey('old-key', t.config.idempotency.ttlSeconds + 1)
    const second = await createPlan(payload, 'old-key')
    expect(second.statusCode).toBe(201)
    expect(second.headers['idempotent-replayed']).toBeUndefined()
    expect(second.json().id).not.toBe(first.json().id)
    expect(await plansNamed('expired')).toBe(2)
    // And the reclaimed key now replays the second response.
    expect((await createPlan(payload, 'old-key')).json().id).toBe(second.json().id)
  })

  test('the sweep deletes expired records only', async () => {
    await createPlan({ category: 'sweep', priceMinor: 1, currency: 'EUR' }, 'sweep-old')
    await createPlan({ category: 'sweep', priceMinor: 2, currency: 'EUR' }, 'sweep-new')
    const ttl = t.config.idempotency.ttlSeconds
    await ageKey('sweep-old', ttl + 1)
    expect(await deleteExpiredKeys(t.app.db, ttl)).toBe(1)
    const left = await t.app.db.execute<{ key: string }>(
      sql`SELECT key FROM billing.idempotency_keys WHERE key LIKE 'sweep-%'`,
    )
    expect(left.rows.map((r) => r.key)).toEqual(['sweep-new'])
  })
})
