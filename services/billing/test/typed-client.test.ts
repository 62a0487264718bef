// billing through the client a consumer would generate: openapi-fetch typed by
// client/openapi.d.ts (openapi-typescript's output for /openapi.json), calling billing
// listening on a real port, with a real auth process issuing the token and answering
// the user check. Typecheck covers this file, so a contract change that breaks these
// calls breaks the build, not only this test.
import { randomUUID } from 'node:crypto'
import type { ServiceProcess } from '@app/testkit'
import createClient from 'openapi-fetch'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { paths } from '../client/openapi.js'
import { buildTestApp, countRows, createDatabase, type TestApp } from './helper.js'
import { signUp, startAuth } from './support/auth-process.js'

let auth: ServiceProcess
let t: TestApp
let client: ReturnType<typeof createClient<paths>>
let authorization: string

beforeAll(async () => {
  const database = await createDatabase()
  auth = await startAuth({ databaseUrl: database.authUrl })
  t = await buildTestApp({ AUTH_URL: auth.baseUrl }, database)
  // The helper closes the app (and so the server) after the file.
  client = createClient<paths>({ baseUrl: await t.app.listen({ host: '127.0.0.1', port: 0 }) })
  // An admin: creating and retiring plans takes the billing:plans:write scope.
  const admin = await signUp(auth, `typed_${randomUUID().slice(0, 8)}`, { adminOf: database.adminUrl })
  authorization = `Bearer ${admin.token}`
})
afterAll(() => auth?.stop())

test('list plans, create one and subscribe to it, each write with an Idempotency-Key', async () => {
  const listed = await client.GET('/billing/subscriptions', { params: { query: { limit: 5 } } })
  expect(listed.response.status).toBe(200)
  const before: number | undefined = listed.data?.items.length
  expect(before).toBeLessThanOrEqual(5)

  const planKey = randomUUID()
  const createPlan = () =>
    client.POST('/billing/subscriptions', {
      params: { header: { 'idempotency-key': planKey } },
      headers: { authorization },
      body: { category: 'typed client', priceMinor: 1250, currency: 'EUR' },
    })
  const created = await createPlan()
  expect(created.response.status).toBe(201)
  const planId: string | undefined = created.data?.id
  expect(created.data).toMatchObject({ category: 'typed client', priceMinor: 1250, currency: 'EUR' })
  // The retry is answered from the key: the same plan, not a second one.
  const retried = await createPlan()
  expect(retried.response.headers.get('idempotent-replayed')).toBe('true')
  expect(retried.data?.id).toBe(planId)
  expect(await countRows(t.app, 'subscriptions')).toBe(1)

  const subscribed = await client.POST('/billing/user-subscriptions', {
    params: { header: { 'idempotency-key': randomUUID() } },
    headers: { authorization },
    body: { subscriptionId: planId! },
  })
  expect(subscribed.response.status).toBe(201)
  const status: 'active' | 'cancelled' | undefined = subscribed.data?.status
  expect(status).toBe('active')

  const cancelled = await client.POST('/billing/user-subscriptions/{id}/cancel', {
    params: { path: { id: subscribed.data!.id } },
    headers: { authorization },
  })
  expect(cancelled.data).toMatchObject({ id: subscribed.data!.id, status: 'cancelled' })
  const mine = await client.GET('/billing/user-subscriptions', { headers: { authorization } })
  expect(mine.data?.items.map((item) => item.id)).toEqual([subscribed.data!.id])

  const retired = await client.POST('/billing/subscriptions/{id}/retire', {
    params: { path: { id: planId! } },
    headers: { authorization },
  })
  const retiredAt: string | null | undefined = retired.data?.retiredAt
  expect(retiredAt).toEqual(expect.any(String))
  const refused = await client.POST('/billing/user-subscriptions', {
    headers: { authorization },
    body: { subscriptionId: planId! },
  })
  expect(refused.response.status).toBe(409)
  expect(refused.error?.code).toBe('PLAN_RETIRED')
})

test('a category the pattern lets through but the service refuses is a typed 422 naming the field', async () => {
  // An unpaired surrogate: no portable pattern can refuse it; the service does, in code.
  const refused = await client.POST('/billing/subscriptions', {
    headers: { authorization },
    body: { category: 'plan \ud800', priceMinor: 1, currency: 'EUR' },
  })
  expect(refused.response.status).toBe(422)
  expect(refused.error).toMatchObject({
    code: 'VALIDATION_FAILED',
    message: 'body.category must not contain unpaired surrogates',
    details: [{ in: 'body', field: 'category', message: 'must not contain unpaired surrogates' }],
  })
})
