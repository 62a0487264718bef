// Roles become scopes: an admin's token carries users:read and billing:plans:write,
// a user's none; the OAuth2 `scope` field narrows what is granted. GET /auth/users
// needs users:read (403 INSUFFICIENT_SCOPE with the RFC 6750 challenge otherwise),
// and an admin reads any user's full record.
import { promoteToAdmin } from '@app/testkit'
import { decodeJwt } from 'jose'
import { describe, expect, test } from 'vitest'
import { bearer, buildTestApp, login, register, registerAdmin, requestToken } from './helper.js'

const t = await buildTestApp()
const { app } = t
const admin = await registerAdmin(t)
const user = await register(app)
const adminToken = await login(app, admin)
const userToken = await login(app, user)

async function grant(who: { username: string; password: string }, scope?: string) {
  const res = await requestToken(app, {
    username: who.username,
    password: who.password,
    ...(scope === undefined ? {} : { scope }),
  })
  expect(res.statusCode, res.body).toBe(200)
  const body = res.json<{ access_token: string; scope: string }>()
  return { scope: body.scope, claim: decodeJwt(body.access_token).scope }
}

describe('POST /auth/token grants the role’s scopes', () => {
  test("an admin gets every admin scope, in the response's scope and the token's scope claim", async () => {
    expect(await grant(admin)).toEqual({
      scope: 'users:read billing:plans:write',
      claim: 'users:read billing:plans:write',
    })
  })

  test('a user gets none: an empty scope and no claim, whatever it asks for', async () => {
    expect(await grant(user)).toEqual({ scope: '', claim: undefined })
    expect(await grant(user, 'users:read billing:plans:write')).toEqual({ scope: '', claim: undefined })
  })

  test('the scope field narrows the grant to the requested scopes the role has; blank means all', async () => {
    expect(await grant(admin, 'billing:plans:write')).toEqual({
      scope: 'billing:plans:write',
      claim: 'billing:plans:write',
    })
    expect(await grant(admin, 'users:read unknown:scope')).toEqual({
      scope: 'users:read',
      claim: 'users:read',
    })
    expect(await grant(admin, 'unknown:scope')).toEqual({ scope: '', claim: undefined })
    expect((await grant(admin, '')).scope).toBe('users:read billing:plans:write')
  })

  test('a promotion reaches the tokens issued after it, not the ones before', async () => {
    const late = await register(app)
    const before = await login(app, late)
    await promoteToAdmin(t.adminUrl, late.username)
    const after = await login(app, late)
    expect(decodeJwt(before).scope).toBeUndefined()
    expect(decodeJwt(after).scope).toBe('users:read billing:plans:write')
  })
})

describe('GET /auth/users needs users:read', () => {
  test('a user without it is 403 INSUFFICIENT_SCOPE with the RFC 6750 challenge naming the scope', async () => {
    const res = await app.inject({ url: '/auth/users', headers: bearer(userToken) })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ statusCode: 403, code: 'INSUFFICIENT_SCOPE' })
    expect(res.json().message).toContain('users:read')
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="users:read"')
  })

  test('an admin token narrowed to billing:plans:write is refused too: scopes, not roles, decide', async () => {
    const narrowed = await requestToken(app, {
      username: admin.username,
      password: admin.password,
      scope: 'billing:plans:write',
    })
    const res = await app.inject({ url: '/auth/users', headers: bearer(narrowed.json().access_token) })
    expect(res.statusCode).toBe(403)
  })

  test('an admin lists every user, emails included', async () => {
    const res = await app.inject({ url: '/auth/users?limit=100', headers: bearer(adminToken) })
    expect(res.statusCode).toBe(200)
    expect(res.json().items).toContainEqual(
      expect.objectContaining({ id: user.id, username: user.username, email: user.email }),
    )
  })

  test('everyone keeps /auth/users/me', async () => {
    const res = await app.inject({ url: '/auth/users/me', headers: bearer(userToken) })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: user.id, email: user.email })
  })
})

describe('GET /auth/users/{id}', () => {
  test('an admin (users:read) sees any user’s full record; a user sees the public profile', async () => {
    const byAdmin = await app.inject({ url: `/auth/users/${user.id}`, headers: bearer(adminToken) })
    expect(byAdmin.json()).toMatchObject({ id: user.id, email: user.email })
    const byUser = await app.inject({ url: `/auth/users/${admin.id}`, headers: bearer(userToken) })
    expect(byUser.statusCode).toBe(200)
    expect(byUser.json().email).toBeUndefined()
  })
})
