// The example resource against real Postgres: create with a token (signed by a key
// published the way auth publishes its keys), read without one, page through.
import { randomUUID } from 'node:crypto'
import { createSigningKey, type JwksServer, signToken, startJwksServer } from '@app/testkit'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { __Name__App } from '../src/app.js'
import { buildTestApp, countRows } from './helper.js'

let keys: JwksServer
let app: __Name__App
let authorization: string

beforeAll(async () => {
  const key = await createSigningKey()
  keys = await startJwksServer([key])
  app = await buildTestApp({ AUTH_URL: keys.url })
  // A token for this service: auth lists it among the token's audiences.
  authorization = `Bearer ${await signToken(key, { aud: ['auth', '__name__'] })}`
})
afterAll(() => keys.close())

const create = (name: string, headers: Record<string, string> = { authorization }) =>
  app.inject({ method: 'POST', url: '/__name__/items', headers, payload: { name } })

test('/readyz: the database is reachable as __name___app and every migration is applied', async () => {
  const res = await app.inject('/readyz')
  expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } })
})

test('POST /__name__/items stores the item; GET returns it', async () => {
  const before = await countRows(app, 'items')
  const res = await create('first item')
  expect(res.statusCode).toBe(201)
  expect(res.json()).toMatchObject({ name: 'first item' })
  expect(await countRows(app, 'items')).toBe(before + 1)
  const get = await app.inject(`/__name__/items/${res.json().id}`)
  expect(get.statusCode).toBe(200)
  expect(get.json()).toEqual(res.json())
})

test('creating needs a token (401, nothing written); a bad name is 422 naming the field', async () => {
  const before = await countRows(app, 'items')
  const anonymous = await create('x', {})
  expect(anonymous.statusCode).toBe(401)
  expect(anonymous.json().code).toBe('NOT_AUTHENTICATED')
  const forged = await create('x', {
    authorization: `Bearer ${await signToken(await createSigningKey(), { aud: '__name__' })}`,
  })
  expect(forged.json().code).toBe('INVALID_TOKEN')
  // Each service accepts only tokens that name it: one for billing alone is refused here.
  const elsewhere = await create('x', {
    authorization: `Bearer ${await signToken(keys.keys[0]!, { aud: 'billing' })}`,
  })
  expect(elsewhere.json().code).toBe('INVALID_TOKEN')
  const invalid = await create(' padded ')
  expect(invalid.statusCode).toBe(422)
  expect(invalid.json().message).toMatch(/^body\.name /)
  expect(await countRows(app, 'items')).toBe(before)
})

test('GET /__name__/items/{id}: unknown id 404 ITEM_NOT_FOUND, malformed id 422', async () => {
  const missing = await app.inject(`/__name__/items/${randomUUID()}`)
  expect(missing.statusCode).toBe(404)
  expect(missing.json().code).toBe('ITEM_NOT_FOUND')
  expect((await app.inject('/__name__/items/not-a-uuid')).statusCode).toBe(422)
})

test('GET /__name__/items pages through every item exactly once, newest first', async () => {
  for (let i = 0; i < 5; i++) expect((await create(`page ${i}`)).statusCode).toBe(201)
  const seen: { id: string; createdAt: string }[] = []
  let cursor: string | null = null
  do {
    const res = await app.inject({
      url: '/__name__/items',
      query: cursor ? { limit: '2', cursor } : { limit: '2' },
    })
    expect(res.statusCode).toBe(200)
    const page = res.json() as { items: { id: string; createdAt: string }[]; nextCursor: string | null }
    seen.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  expect(new Set(seen.map((item) => item.id)).size).toBe(await countRows(app, 'items'))
  const order = seen.map((item) => `${item.createdAt} ${item.id}`)
  expect(order).toEqual([...order].sort().reverse())
})
