import { parseMetrics, sampleValue } from '@app/testkit'
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

  test('a taken username is found after the same argon2 work as a success', async () => {
    const hashes = async () =>
      sampleValue(parseMetrics((await app.inject({ url: '/metrics' })).body), 'auth_argon2_started_total', {
        operation: 'hash',
      }) ?? 0
    const first = await register(app)
    const before = await hashes()
    const taken = await app.inject({
      method: 'POST',
      url: '/auth/users',
      payload: newUser({ username: first.username }),
    })
    expect(taken.statusCode).toBe(409)
    // The password was hashed before the conflict was known: no early exit.
    expect(await hashes()).toBe(before + 1)
    await register(app)
    expect(await hashes()).toBe(before + 2)
  })

  test('an email another account uses registers like any other, in any case (emails are not unique)', async () => {
    const fresh = newUser()
    const first = await app.inject({ method: 'POST', url: '/auth/users', payload: fresh })
    const sameEmail = newUser({ email: fresh.email })
    const second = await app.inject({ method: 'POST', url: '/auth/users', payload: sameEmail })
    const otherCase = newUser({ email: fresh.email.toUpperCase() })
    const third = await app.inject({ method: 'POST', url: '/auth/users', payload: otherCase })

    // Indistinguishable from a fresh registration: status, headers, body shape, no hint.
    const shape = (res: typeof first, body: { username: string; email: string }) => ({
      status: res.statusCode,
      headers: Object.keys(res.headers).sort(),
      body: { ...res.json(), id: 'id', createdAt: 'at', updatedAt: 'at' },
      expected: { id: 'id', username: body.username, email: body.email, createdAt: 'at', updatedAt: 'at' },
    })
    const answers = [shape(first, fresh), shape(second, sameEmail), shape(third, otherCase)]
    for (const answer of answers) {
      expect(answer.status).toBe(201)
      expect(answer.body).toEqual(answer.expected)
      expect(answer.headers).toEqual(answers[0]!.headers)
    }
    const rows = await sql<{ username: string }>(
      adminUrl,
      'SELECT username FROM auth.users WHERE lower(email) = lower($1) ORDER BY created_at',
      [fresh.email],
    )
    expect(rows.map((row) => row.username)).toEqual([fresh.username, sameEmail.username, otherCase.username])
    // Each account is its own: each logs in with its own password.
    for (const user of [fresh, sameEmail, otherCase]) await login(app, user)
  })

  test('the documented answers: 409 only for a username, and the abuse limits (429, 503 BUSY)', async () => {
    const document = (await app.inject({ url: '/openapi.json' })).json()
    const codes = (path: string, status: number): string[] =>
      document.paths[path].post.responses[status].content['application/json'].schema.properties.code.enum
    expect(codes('/auth/users', 409)).toEqual(['USERNAME_TAKEN'])
    expect(codes('/auth/users', 429)).toEqual(['RATE_LIMITED'])
    expect(codes('/auth/users', 503)).toContain('BUSY')
    expect(codes('/auth/token', 429)).toEqual(['LOGIN_BACKOFF', 'RATE_LIMITED'])
    expect(codes('/auth/token', 503)).toContain('BUSY')
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
