import { describe, expect, test } from 'vitest'
import { bearer, buildTestApp, login, newUser, register, sql } from './helper.js'

const { app, adminUrl } = await buildTestApp()

describe('register -> log in -> /me', () => {
  test('the whole flow, and what the database holds', async () => {
    const body = newUser()
    const created = await app.inject({ method: 'POST', url: '/auth/users', payload: body })
    expect(created.statusCode).toBe(201)
    const user = created.json()
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: body.username,
      email: body.email,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    expect(created.headers.location).toBe(`/auth/users/${user.id}`)

    const [row] = await sql<{ username: string; password_hash: string; disabled: boolean }>(
      adminUrl,
      'SELECT username, password_hash, disabled FROM auth.users WHERE id = $1',
      [user.id],
    )
    expect(row).toMatchObject({ username: body.username, disabled: false })
    // argon2id with OWASP's parameters, and never the password itself.
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(row!.password_hash).not.toContain(body.password)

    const token = await login(app, body)
    const me = await app.inject({ url: '/auth/users/me', headers: bearer(token) })
    expect(me.statusCode).toBe(200)
    expect(me.json()).toEqual(user)
  })

  test('/me without a token is 401 with a Bearer challenge', async () => {
    const res = await app.inject({ url: '/auth/users/me' })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer')
    expect(res.json()).toMatchObject({ statusCode: 401, code: 'NOT_AUTHENTICATED' })
  })

  test('a disabled account: its token no longer opens /me, and others cannot see it', async () => {
    const victim = await register(app)
    const token = await login(app, victim)
    const other = await login(app, await register(app))
    await sql(adminUrl, 'UPDATE auth.users SET disabled = true WHERE id = $1', [victim.id])

    const me = await app.inject({ url: '/auth/users/me', headers: bearer(token) })
    expect(me.statusCode).toBe(401)
    expect(me.json().code).toBe('INVALID_TOKEN')
    const byId = await app.inject({ url: `/auth/users/${victim.id}`, headers: bearer(other) })
    expect(byId.statusCode).toBe(404)
  })
})

describe('POST /auth/users', () => {
  test('a taken username is 409 USERNAME_TAKEN, and nothing is written', async () => {
    const first = await register(app)
    const res = await app.inject({
      method: 'POST',
      url: '/auth/users',
      payload: newUser({ username: first.username }),
    })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({
      statusCode: 409,
      code: 'USERNAME_TAKEN',
      details: { field: 'username' },
    })
    const rows = await sql(adminUrl, 'SELECT 1 FROM auth.users WHERE username = $1', [first.username])
    expect(rows).toHaveLength(1)
  })

  test('a taken email, in any case, is 409 EMAIL_TAKEN', async () => {
    const first = await register(app)
    const res = await app.inject({
      method: 'POST',
      url: '/auth/users',
      payload: newUser({ email: first.email.toUpperCase() }),
    })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'EMAIL_TAKEN', details: { field: 'email' } })
  })

  test('invalid fields are 422 naming the field; unknown fields are refused', async () => {
    const cases = [
      [{ ...newUser(), email: 'not-an-email' }, 'body.email'],
      [{ ...newUser(), password: 'short' }, 'body.password'],
      [{ ...newUser(), username: 'has space' }, 'body.username'],
      [{ ...newUser(), isAdmin: true }, 'body.isAdmin'],
    ] as const
    for (const [payload, field] of cases) {
      const res = await app.inject({ method: 'POST', url: '/auth/users', payload })
      expect(res.statusCode, field).toBe(422)
      expect(res.json().message).toContain(field)
    }
  })

  test('SQL-looking input is stored verbatim', async () => {
    const email = `o'brien+${Date.now()}--@example.com`
    const password = "x'; DROP TABLE auth.users; --"
    const user = await register(app, newUser({ email, password }))
    const [row] = await sql<{ email: string }>(adminUrl, 'SELECT email FROM auth.users WHERE id = $1', [
      user.id,
    ])
    expect(row!.email).toBe(email)
    const token = await login(app, user)
    expect((await app.inject({ url: '/auth/users/me', headers: bearer(token) })).json().email).toBe(email)
  })
})

describe('GET /auth/users/{id}', () => {
  test('another user sees the public profile; the owner sees the email', async () => {
    const alice = await register(app)
    const bob = await register(app)
    const asBob = await app.inject({ url: `/auth/users/${alice.id}`, headers: bearer(await login(app, bob)) })
    expect(asBob.statusCode).toBe(200)
    expect(asBob.json()).toEqual({
      id: alice.id,
      username: alice.username,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    const asAlice = await app.inject({
      url: `/auth/users/${alice.id}`,
      headers: bearer(await login(app, alice)),
    })
    expect(asAlice.json().email).toBe(alice.email)
  })

  test('an unknown id is 404 USER_NOT_FOUND; a malformed one 422', async () => {
    const token = await login(app, await register(app))
    const unknown = await app.inject({
      url: '/auth/users/00000000-0000-4000-8000-000000000000',
      headers: bearer(token),
    })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ statusCode: 404, code: 'USER_NOT_FOUND' })

    for (const id of ['42', 'urn:uuid:00000000-0000-4000-8000-000000000000']) {
      const res = await app.inject({ url: `/auth/users/${encodeURIComponent(id)}`, headers: bearer(token) })
      expect(res.statusCode, id).toBe(422)
      expect(res.json().message).toContain('params.id')
    }
  })

  test('without a token it is 401, even for an existing id', async () => {
    const user = await register(app)
    const res = await app.inject({ url: `/auth/users/${user.id}` })
    expect(res.statusCode).toBe(401)
  })
})

describe('updated_at', () => {
  test('the trigger sets it on every update, even a raw one that tries to set it', async () => {
    const user = await register(app)
    await sql(adminUrl, "UPDATE auth.users SET updated_at = '2000-01-01T00:00:00Z' WHERE id = $1", [user.id])
    const [first] = await sql<{ updated_at: Date; created_at: Date }>(
      adminUrl,
      'SELECT created_at, updated_at FROM auth.users WHERE id = $1',
      [user.id],
    )
    expect(first!.updated_at.getTime()).toBeGreaterThanOrEqual(first!.created_at.getTime())

    // Start from a known past value (written with the trigger off), then update.
    await sql(
      adminUrl,
      `BEGIN;
       ALTER TABLE auth.users DISABLE TRIGGER users_set_updated_at;
       UPDATE auth.users SET updated_at = '2000-01-01T00:00:00Z' WHERE id = '${user.id}';
       ALTER TABLE auth.users ENABLE TRIGGER users_set_updated_at;
       COMMIT`,
    )
    await sql(adminUrl, "UPDATE auth.users SET email = 'changed-' || email WHERE id = $1", [user.id])
    const [after] = await sql<{ updated_at: Date }>(
      adminUrl,
      'SELECT updated_at FROM auth.users WHERE id = $1',
      [user.id],
    )
    expect(after!.updated_at.getTime()).toBeGreaterThan(Date.parse('2000-01-01T00:00:00Z'))
    expect(after!.updated_at.getTime()).toBeGreaterThanOrEqual(first!.created_at.getTime())
  })
})
