// The plans: create (with a token), list with pagination, get, and price and
// currency validation, against real Postgres. Tokens come from a local key server
// (@app/testkit's startJwksServer); the whole flow with the real auth is in e2e.test.ts.
import { randomUUID } from 'node:crypto'
import { createSigningKey, type JwksServer, signToken, startJwksServer } from '@app/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { PLANS_WRITE } from '../src/scopes.js'
import { bearer, buildTestApp, countRows, type TestApp } from './helper.js'

let keys: JwksServer
let t: TestApp
let token: string

beforeAll(async () => {
  const key = await createSigningKey()
  keys = await startJwksServer([key])
  t = await buildTestApp({ AUTH_URL: keys.url })
  // An admin's token: creating plans takes the billing:plans:write scope.
  token = await signToken(key, { scope: PLANS_WRITE })
})
afterAll(() => keys.close())

const plan = { category: 'premium', priceMinor: 999, currency: 'EUR' }

function createPlan(payload: object) {
  return t.app.inject({ method: 'POST', url: '/billing/subscriptions', headers: bearer(token), payload })
}

test('POST /billing/subscriptions stores the plan and returns it', async () => {
  const before = await countRows(t.app, 'subscriptions')
  const res = await createPlan({ category: 'gold', priceMinor: 1999, currency: 'USD' })
  expect(res.statusCode).toBe(201)
  const body = res.json()
  expect(body).toMatchObject({ category: 'gold', priceMinor: 1999, currency: 'USD' })
  expect(body.createdAt).toBe(body.updatedAt)
  expect(await countRows(t.app, 'subscriptions')).toBe(before + 1)

  const get = await t.app.inject(`/billing/subscriptions/${body.id}`)
  expect(get.statusCode).toBe(200)
  expect(get.json()).toEqual(body)
})

test('reading plans needs no token; creating one does (401 with WWW-Authenticate)', async () => {
  expect((await t.app.inject('/billing/subscriptions')).statusCode).toBe(200)
  const res = await t.app.inject({ method: 'POST', url: '/billing/subscriptions', payload: plan })
  expect(res.statusCode).toBe(401)
  expect(res.json().code).toBe('NOT_AUTHENTICATED')
  expect(res.headers['www-authenticate']).toBe('Bearer')
})

test('the largest allowed price, 0, any ISO-shaped currency and any printable category are accepted', async () => {
  for (const payload of [
    { ...plan, priceMinor: 1_000_000_000_000 },
    { ...plan, priceMinor: 0, currency: 'JPY' },
    { ...plan, category: "Prémium ✓ 🚀 ' OR 1=1; --" },
  ]) {
    const res = await createPlan(payload)
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject(payload)
  }
})

describe('an invalid plan is refused with 422 naming the field, and nothing is written', () => {
  test.each([
    ['negative price', { ...plan, priceMinor: -1 }, 'body.priceMinor'],
    ['non-integer price', { ...plan, priceMinor: 9.99 }, 'body.priceMinor'],
    ['price above the maximum', { ...plan, priceMinor: 1_000_000_000_001 }, 'body.priceMinor'],
    ['price beyond JS safe integers', { ...plan, priceMinor: 2 ** 63 }, 'body.priceMinor'],
    ['price as a string', { ...plan, priceMinor: '999' }, 'body.priceMinor'],
    ['lower-case currency', { ...plan, currency: 'eur' }, 'body.currency'],
    ['four-letter currency', { ...plan, currency: 'EURO' }, 'body.currency'],
    ['empty category', { ...plan, category: '' }, 'body.category'],
    ['category with surrounding spaces', { ...plan, category: ' gold ' }, 'body.category'],
    ['category with a NUL character', { ...plan, category: 'go\u0000ld' }, 'body.category'],
    ['category with a line break', { ...plan, category: 'go\nld' }, 'body.category'],
    ['unknown field', { ...plan, discount: 5 }, 'body.discount'],
    ['missing price', { category: 'x', currency: 'EUR' }, 'body.priceMinor'],
  ])('%s', async (_name, payload, field) => {
    const before = await countRows(t.app, 'subscriptions')
    const res = await createPlan(payload)
    expect(res.statusCode).toBe(422)
    expect(res.json().code).toBe('VALIDATION_FAILED')
    expect(res.json().message).toMatch(new RegExp(`^${field.replace('.', '\\.')} `))
    expect(await countRows(t.app, 'subscriptions')).toBe(before)
  })

  test('a price too large for JSON numbers (1e400) is refused too', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/billing/subscriptions',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: '{"category":"x","priceMinor":1e400,"currency":"EUR"}',
    })
    expect(res.statusCode).toBe(422)
    expect(res.json().message).toMatch(/^body\.priceMinor /)
  })
})

test('the database refuses an out-of-range price or a malformed currency even without the API', async () => {
  await expect(
    t.app.db.execute(
      "INSERT INTO billing.subscriptions (category, price_minor, currency) VALUES ('x', -1, 'EUR')",
    ),
  ).rejects.toMatchObject({ cause: { constraint: 'subscriptions_price_minor_range' } })
  await expect(
    t.app.db.execute(
      "INSERT INTO billing.subscriptions (category, price_minor, currency) VALUES ('x', 1, 'eu1')",
    ),
  ).rejects.toMatchObject({ cause: { constraint: 'subscriptions_currency_iso4217' } })
})

test('GET /billing/subscriptions/{id}: unknown id 404 SUBSCRIPTION_NOT_FOUND, malformed id 422', async () => {
  const id = randomUUID()
  const res = await t.app.inject(`/billing/subscriptions/${id}`)
  expect(res.statusCode).toBe(404)
  expect(res.json()).toMatchObject({ code: 'SUBSCRIPTION_NOT_FOUND', message: expect.stringContaining(id) })
  const bad = await t.app.inject('/billing/subscriptions/not-a-uuid')
  expect(bad.statusCode).toBe(422)
  expect(bad.json().message).toMatch(/^params\.id /)
})

test('GET /billing/subscriptions pages through every plan exactly once, newest first', async () => {
  for (let i = 0; i < 5; i++)
    expect((await createPlan({ ...plan, category: `page-${i}` })).statusCode).toBe(201)
  const total = await countRows(t.app, 'subscriptions')
  const seen: { id: string; createdAt: string }[] = []
  let cursor: string | null = null
  do {
    const res = await t.app.inject({
      url: '/billing/subscriptions',
      query: cursor ? { limit: '2', cursor } : { limit: '2' },
    })
    expect(res.statusCode).toBe(200)
    const page = res.json() as { items: { id: string; createdAt: string }[]; nextCursor: string | null }
    expect(page.items.length).toBeLessThanOrEqual(2)
    seen.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  expect(seen).toHaveLength(total)
  expect(new Set(seen.map((s) => s.id)).size).toBe(total)
  const keys = seen.map((s) => `${s.createdAt} ${s.id}`)
  expect(keys).toEqual([...keys].sort().reverse())
})

test('a cursor this API did not issue is 422 naming querystring.cursor', async () => {
  const encode = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url')
  for (const cursor of [
    'garbage',
    encode(['2026-01-01T00:00:00Z', 42]),
    // A date JavaScript accepts but Postgres cannot hold.
    encode(['-100000-01-01T00:00:00Z', randomUUID()]),
  ]) {
    const res = await t.app.inject({ url: '/billing/subscriptions', query: { cursor } })
    expect(res.statusCode).toBe(422)
    expect(res.json().message).toMatch(/^querystring\.cursor /)
  }
})

test('updated_at follows every UPDATE (trigger), created_at does not move', async () => {
  const created = (await createPlan({ ...plan, category: 'trigger' })).json()
  const result = await t.app.db.execute<{ created_at: string; updated_at: string }>(
    `UPDATE billing.subscriptions SET price_minor = 1, updated_at = '2000-01-01'
     WHERE id = '${created.id}' RETURNING created_at, updated_at`,
  )
  const createdAt = new Date(result.rows[0]!.created_at)
  const updatedAt = new Date(result.rows[0]!.updated_at)
  expect(createdAt.toISOString()).toBe(created.createdAt)
  expect(updatedAt.getUTCFullYear()).not.toBe(2000)
  expect(updatedAt.getTime()).toBeGreaterThanOrEqual(createdAt.getTime())
})
