import { expect, test } from 'vitest'
import { bearer, buildTestApp, login, register, registerAdmin, sql } from './helper.js'

const t = await buildTestApp()
const { app, adminUrl } = t

// 2 users through the API, 10 more inserted directly: 6 of them sharing one
// created_at (the keyset's tie-breaker is the id) and 2 disabled. The viewer is an
// admin: listing users needs the users:read scope.
const viewer = await registerAdmin(t)
await register(app)
await sql(
  adminUrl,
  `INSERT INTO auth.users (username, email, password_hash, created_at, disabled)
   SELECT 'bulk_' || n, 'bulk_' || n || '@example.com', 'not-a-hash',
          CASE WHEN n <= 6 THEN timestamptz '2026-01-01T00:00:00.123Z' ELSE now() - n * interval '1 day' END,
          n IN (3, 9)
   FROM generate_series(1, 10) AS n`,
)
const token = await login(app, viewer)

interface Page {
  items: { id: string; username: string; email?: string; createdAt: string }[]
  nextCursor: string | null
}

async function walk(limit: number) {
  const seen: Page['items'] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 50; pages++) {
    const query: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const res = await app.inject({ url: `/auth/users?${query}`, headers: bearer(token) })
    expect(res.statusCode, res.body).toBe(200)
    const page = res.json<Page>()
    expect(page.items.length).toBeLessThanOrEqual(limit)
    seen.push(...page.items)
    cursor = page.nextCursor
    if (!cursor) return seen
  }
  throw new Error('the cursor never ended')
}

test('walking every page returns each enabled user exactly once, in (created_at, id) order', async () => {
  const expected = await sql<{ id: string }>(
    adminUrl,
    'SELECT id FROM auth.users WHERE NOT disabled ORDER BY created_at, id',
  )
  expect(expected).toHaveLength(10)
  for (const limit of [1, 3, 10, 100]) {
    const seen = await walk(limit)
    expect(seen.map((u) => u.id)).toEqual(expected.map((r) => r.id))
  }
})

test('the admin sees every entry in full, email included', async () => {
  const seen = await walk(100)
  expect(seen.every((u) => typeof u.email === 'string')).toBe(true)
  expect(seen).toContainEqual(expect.objectContaining({ id: viewer.id, email: viewer.email }))
})

test('limit is bounded and a forged cursor is 422, not 500', async () => {
  for (const query of ['limit=0', 'limit=101', 'limit=x']) {
    const res = await app.inject({ url: `/auth/users?${query}`, headers: bearer(token) })
    expect(res.statusCode, query).toBe(422)
    expect(res.json().message).toContain('querystring.limit')
  }
  const forged = [
    'garbage',
    Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z', 'not-a-uuid'])).toString('base64url'),
    Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z', 42])).toString('base64url'),
    Buffer.from(JSON.stringify(['-271821-04-20T00:00:00Z', '00000000-0000-4000-8000-000000000000'])).toString(
      'base64url',
    ),
  ]
  for (const cursor of forged) {
    const res = await app.inject({ url: `/auth/users?cursor=${cursor}`, headers: bearer(token) })
    expect(res.statusCode, cursor).toBe(422)
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' })
  }
})

test('listing needs a token', async () => {
  expect((await app.inject({ url: '/auth/users' })).statusCode).toBe(401)
})
