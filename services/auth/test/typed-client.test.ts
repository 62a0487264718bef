// auth through the client a consumer would generate: openapi-fetch typed by
// client/openapi.d.ts (openapi-typescript's output for /openapi.json), calling auth
// listening on a real port. Typecheck covers this file, so a contract change that
// breaks these calls breaks the build, not only this test.
import createClient from 'openapi-fetch'
import { beforeAll, expect, test } from 'vitest'
import type { paths } from '../client/openapi.js'
import { buildTestApp, newUser } from './helper.js'

let client: ReturnType<typeof createClient<paths>>
beforeAll(async () => {
  const { app } = await buildTestApp()
  // The helper closes the app (and so the server) after the file.
  client = createClient<paths>({ baseUrl: await app.listen({ host: '127.0.0.1', port: 0 }) })
})

test('register, log in with the OAuth2 password form, read your own record', async () => {
  const user = newUser()
  const registered = await client.POST('/auth/users', { body: user })
  expect(registered.response.status).toBe(201)
  const id: string | undefined = registered.data?.id
  expect(registered.data).toMatchObject({ username: user.username, email: user.email })

  const login = await client.POST('/auth/token', {
    body: { grant_type: 'password', username: user.username, password: user.password },
    // openapi-fetch serializes the body as a form when told the form's media type.
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  expect(login.response.status).toBe(200)
  const token: string | undefined = login.data?.access_token
  expect(login.data?.token_type).toBe('bearer')

  const me = await client.GET('/auth/users/me', { headers: { authorization: `Bearer ${token}` } })
  expect(me.response.status).toBe(200)
  expect(me.data).toMatchObject({ id, username: user.username, email: user.email })

  const other = await client.GET('/auth/users/{id}', {
    params: { path: { id: id! } },
    headers: { authorization: `Bearer ${token}` },
  })
  expect(other.data?.id).toBe(id)
})

test('errors arrive in the documented shape', async () => {
  const user = newUser()
  expect((await client.POST('/auth/users', { body: user })).response.status).toBe(201)
  const again = await client.POST('/auth/users', { body: { ...user, email: `x${user.email}` } })
  expect(again.response.status).toBe(409)
  const code: string | undefined = again.error?.code
  expect(code).toBe('USERNAME_TAKEN')

  const wrong = await client.POST('/auth/token', {
    body: { username: user.username, password: 'not the password' },
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  expect(wrong.response.status).toBe(401)
  expect(wrong.error?.code).toBe('INVALID_CREDENTIALS')
})
