// The password hash (and the password) never leave the service: not in any
// response, not in any log line, whatever the route and outcome. Nor do tokens
// reach the log, nor the private halves of the signing keys.
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { expect, test } from 'vitest'
import { bearer, buildTestApp, login, newUser, register, requestToken, sql } from './helper.js'

// A verification key configured as a private key: only its public half may show.
const retiring = generateKeyPairSync('ed25519').privateKey
const retiringPem = retiring.export({ format: 'pem', type: 'pkcs8' }).toString()
const { app, adminUrl, logs, privateKey } = await buildTestApp({ AUTH_JWT_VERIFY_KEYS: retiringPem })

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

test('the JWKS and the log hold the public halves of the keys, never a private one', async () => {
  const jwks = await app.inject('/auth/.well-known/jwks.json')
  const published = jwks.json<{ keys: Record<string, string>[] }>().keys
  // Both keys are there (the current one first), so what is absent below is meaningful.
  expect(published.map((key) => key.x)).toEqual([publicX(privateKey), publicX(retiring)])
  const pemLines = (key: KeyObject) =>
    key
      .export({ format: 'pem', type: 'pkcs8' })
      .toString()
      .split('\n')
      .filter((line) => line && !line.startsWith('-----'))
  const secrets = [privateKey, retiring].flatMap((key) => [privateD(key), ...pemLines(key)])
  for (const key of published)
    expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x'])
  for (const text of [jwks.body, ...logs]) {
    for (const secret of secrets) expect(text).not.toContain(secret)
  }
  expect(logs.some((line) => line.includes(published[1]!.kid!))).toBe(true)
})

const publicX = (key: KeyObject) => key.export({ format: 'jwk' }).x
const privateD = (key: KeyObject) => key.export({ format: 'jwk' }).d!
