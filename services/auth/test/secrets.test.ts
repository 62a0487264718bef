// The password hash (and the password) never leave the service: not in any
// response, not in any log line, whatever the route and outcome. Nor do tokens
// reach the log.
import { expect, test } from 'vitest'
import { bearer, buildTestApp, login, newUser, register, requestToken, sql } from './helper.js'

const { app, adminUrl, logs } = await buildTestApp()

test('no response and no log line contains the password hash or the password', async () => {
  const responses: string[] = []
  const keep = <T extends { body: string; headers: Record<string, unknown> }>(res: T) => {
    responses.push(res.body, JSON.stringify(res.headers))
    return res
  }
  const body = newUser()
  const alice = await register(app, body)
  keep(alice.response)
  const bob = await register(app)
  keep(await app.inject({ method: 'POST', url: '/auth/users', payload: body })) // 409
  keep(await app.inject({ method: 'POST', url: '/auth/users', payload: { ...body, email: 'x' } })) // 422
  const token = await login(app, alice)
  keep(await requestToken(app, { username: alice.username, password: 'wrong-password' }))
  keep(await requestToken(app, { username: alice.username, password: alice.password }))
  for (const url of [
    '/auth/users/me',
    `/auth/users/${alice.id}`,
    `/auth/users/${bob.id}`,
    '/auth/users?limit=100',
    '/openapi.json',
  ]) {
    keep(await app.inject({ url, headers: bearer(token) }))
  }
  // Anything that logs a user row by mistake is redacted by the production logger.
  const [row] = await sql<{ password_hash: string }>(
    adminUrl,
    'SELECT password_hash FROM auth.users WHERE id = $1',
    [alice.id],
  )
  const hash = row!.password_hash
  app.log.info(
    { user: { password_hash: hash, passwordHash: hash, password: alice.password } },
    'a careless line',
  )

  expect(hash).toMatch(/^\$argon2id\$/)
  expect(logs.length).toBeGreaterThan(10)
  expect(logs.some((line) => line.includes('a careless line') && line.includes('[redacted]'))).toBe(true)
  for (const text of [...responses, ...logs]) {
    expect(text).not.toContain(hash)
    expect(text).not.toContain('$argon2')
    expect(text).not.toContain(alice.password)
  }
  // Tokens are credentials too: responses hand them out, logs never hold them.
  for (const line of logs) expect(line).not.toContain(token.split('.')[2])
})
