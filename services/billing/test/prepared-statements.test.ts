// The statements of a keyed write and of a plan read are named prepared statements
// (parsed and planned once per connection) by default, and sent unnamed with
// DB_PREPARED_STATEMENTS=false (PgBouncer < 1.21 in transaction mode), answering the same.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSigningKey, type JwksServer, type SigningKey, signToken, startJwksServer } from '@app/testkit'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { PLANS_WRITE } from '../src/scopes.js'
import { bearer, buildTestApp, type TestApp } from './helper.js'

let key: SigningKey
let keys: JwksServer
let token: string

// auth as billing sees it on a subscription: its keys, and every user it is asked about exists.
const auth = createServer((request, response) => {
  if (request.url === '/auth/.well-known/jwks.json') {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ keys: [key.jwk] }))
  } else if (request.url?.startsWith('/auth/users/')) {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ id: request.url.slice('/auth/users/'.length) }))
  } else {
    response.writeHead(404).end()
  }
})
let authUrl: string

const ONE_CONNECTION = { DB_POOL_MAX: '1', DB_PIPELINE_CONNECTIONS: '0' }

/** The statements prepared on the app's one pooled connection, by name. */
async function preparedOnTheConnection(t: TestApp): Promise<string[]> {
  const { rows } = await t.app.db.execute<{ name: string }>(
    sql`SELECT name FROM pg_prepared_statements ORDER BY name`,
  )
  return rows.map((row) => row.name)
}

beforeAll(async () => {
  key = await createSigningKey()
  keys = await startJwksServer([key])
  token = await signToken(key, { scope: PLANS_WRITE })
  await new Promise<void>((resolve) => auth.listen(0, '127.0.0.1', resolve))
  authUrl = `http://127.0.0.1:${(auth.address() as AddressInfo).port}`
})
afterAll(async () => {
  await keys.close()
  auth.closeAllConnections()
  await new Promise((resolve) => auth.close(resolve))
})

describe.each([
  [
    'true',
    [
      'billing_claim_idempotency_key',
      'billing_complete_idempotency_key',
      'billing_find_live_idempotency_key',
      'billing_find_subscription',
    ],
  ],
  ['false', []],
])('DB_PREPARED_STATEMENTS=%s', (prepared, expected) => {
  test(`a keyed plan write, its replay and a plan read; prepared on the connection: ${expected.join(', ') || 'none'}`, async () => {
    // One connection (no shared ones for the queries outside a transaction): every
    // statement the requests sent was prepared (or not) on it.
    const t = await buildTestApp({ AUTH_URL: keys.url, ...ONE_CONNECTION, DB_PREPARED_STATEMENTS: prepared })
    const idempotencyKey = randomUUID()
    const create = () =>
      t.app.inject({
        method: 'POST',
        url: '/billing/subscriptions',
        headers: { ...bearer(token), 'idempotency-key': idempotencyKey },
        payload: { category: `prepared-${prepared}`, priceMinor: 100, currency: 'EUR' },
      })
    const first = await create()
    expect(first.statusCode).toBe(201)
    const again = await create()
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    const read = await t.app.inject({ url: `/billing/subscriptions/${first.json<{ id: string }>().id}` })
    expect(read.statusCode).toBe(200)
    expect(read.json()).toEqual(first.json())

    expect(await preparedOnTheConnection(t)).toEqual(expected)
  })
})

describe.each([
  [
    'true',
    [
      'billing_claim_idempotency_key',
      'billing_complete_idempotency_key',
      'billing_find_live_idempotency_key',
      'billing_insert_user_subscription',
      'billing_subscription_to_subscribe',
    ],
  ],
  ['false', []],
])('DB_PREPARED_STATEMENTS=%s', (prepared, expected) => {
  test(`a keyed subscription (its whole transaction) and its replay; prepared on the connection: ${expected.join(', ') || 'none'}`, async () => {
    const t = await buildTestApp({ AUTH_URL: authUrl, ...ONE_CONNECTION, DB_PREPARED_STATEMENTS: prepared })
    const plan = await t.app.inject({
      method: 'POST',
      url: '/billing/subscriptions',
      headers: bearer(token),
      payload: { category: `subscribed-${prepared}`, priceMinor: 100, currency: 'EUR' },
    })
    // Sent without an Idempotency-Key: none of the statements counted below run for it.
    expect(plan.statusCode).toBe(201)
    const subscriber = await signToken(key, { sub: randomUUID() })
    const idempotencyKey = randomUUID()
    const subscribe = () =>
      t.app.inject({
        method: 'POST',
        url: '/billing/user-subscriptions',
        headers: { ...bearer(subscriber), 'idempotency-key': idempotencyKey },
        payload: { subscriptionId: plan.json<{ id: string }>().id },
      })
    const first = await subscribe()
    expect(first.statusCode).toBe(201)
    const again = await subscribe()
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())

    expect(await preparedOnTheConnection(t)).toEqual(expected)
  })
})
