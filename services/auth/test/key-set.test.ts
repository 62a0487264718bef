// The signing key set: the current key signs, every key of the set verifies (the
// one the token's kid names) and is published, the current one first. The apps
// below are the steps of a rotation from A to B, as each replica would be
// configured (see the README's "Signing keys and their rotation").
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  jwtVerify,
  SignJWT,
} from 'jose'
import { describe, expect, test } from 'vitest'
import type { AuthApp } from '../src/app.js'
import { bearer, buildTestApp, login, register } from './helper.js'

async function newKey() {
  const { privateKey } = generateKeyPairSync('ed25519')
  return {
    privateKey,
    kid: await calculateJwkThumbprint(await exportJWK(createPublicKey(privateKey)), 'sha256'),
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString(),
  }
}

const [A, B, C] = [await newKey(), await newKey(), await newKey()]

/** A token as auth issues it, for `user`, signed by `key` under `kid` (none: no kid header). */
function tokenFor(user: { id: string; username: string }, key: KeyObject, kid: string | undefined) {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ username: user.username })
    .setProtectedHeader(
      kid === undefined ? { alg: 'EdDSA', typ: 'at+jwt' } : { alg: 'EdDSA', kid, typ: 'at+jwt' },
    )
    .setIssuer('http://localhost:5008')
    .setAudience(['auth', 'billing'])
    .setSubject(user.id)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key)
}

const me = (app: AuthApp, token: string) => app.inject({ url: '/auth/users/me', headers: bearer(token) })
const jwks = async (app: AuthApp) => (await app.inject('/auth/.well-known/jwks.json')).json()
const kids = async (app: AuthApp) => (await jwks(app)).keys.map((key: { kid: string }) => key.kid)

// Step 2 of the rotation: B signs, A (the previous key) only verifies.
const rotated = await buildTestApp({ AUTH_JWT_PRIVATE_KEY: B.pem, AUTH_JWT_VERIFY_KEYS: A.publicPem })
const user = await register(rotated.app)

describe('B current, A verification-only', () => {
  test('the JWKS publishes both, the current key first, each under its thumbprint', async () => {
    const published = await jwks(rotated.app)
    expect(published.keys.map((key: { kid: string }) => key.kid)).toEqual([B.kid, A.kid])
    for (const key of published.keys) {
      expect(key).toEqual({
        kty: 'OKP',
        crv: 'Ed25519',
        x: expect.any(String),
        kid: key.kid,
        alg: 'EdDSA',
        use: 'sig',
      })
      expect(await calculateJwkThumbprint(key, 'sha256')).toBe(key.kid)
    }
  })

  test('POST /auth/token signs with the current key: its kid, the first in the JWKS', async () => {
    const token = await login(rotated.app, user)
    expect(decodeProtectedHeader(token).kid).toBe(B.kid)
    const published = await jwks(rotated.app)
    expect(published.keys.map((key: { kid: string }) => key.kid)).toEqual([B.kid, A.kid])
    await jwtVerify(token, createPublicKey(B.privateKey), { algorithms: ['EdDSA'] })
    await jwtVerify(token, createLocalJWKSet(published), { algorithms: ['EdDSA'] })
    expect((await me(rotated.app, token)).statusCode).toBe(200)
  })

  test('a token signed by A before the rotation is still accepted', async () => {
    const res = await me(rotated.app, await tokenFor(user, A.privateKey, A.kid))
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().id).toBe(user.id)
  })

  test('a key verifies only under its own kid', async () => {
    expect((await me(rotated.app, await tokenFor(user, A.privateKey, A.kid))).statusCode).toBe(200)
    for (const token of [
      await tokenFor(user, A.privateKey, B.kid),
      await tokenFor(user, B.privateKey, A.kid),
      await tokenFor(user, C.privateKey, A.kid),
    ]) {
      expectInvalid(await me(rotated.app, token))
    }
  })

  test('no kid, or a kid outside the set: refused, even when a key of the set signed it', async () => {
    for (const token of [
      await tokenFor(user, B.privateKey, undefined),
      await tokenFor(user, A.privateKey, undefined),
      await tokenFor(user, B.privateKey, C.kid),
      await tokenFor(user, C.privateKey, C.kid),
    ]) {
      expectInvalid(await me(rotated.app, token))
    }
  })
})

function expectInvalid(res: Awaited<ReturnType<typeof me>>) {
  expect(res.statusCode).toBe(401)
  expect(res.json().code).toBe('INVALID_TOKEN')
}

test('a key removed from the set (step 3): its tokens are refused', async () => {
  expect((await me(rotated.app, await tokenFor(user, A.privateKey, A.kid))).statusCode).toBe(200)
  const retired = await buildTestApp({ AUTH_JWT_PRIVATE_KEY: B.pem })
  const other = await register(retired.app)
  expect(await kids(retired.app)).toEqual([B.kid])
  expect((await me(retired.app, await tokenFor(other, B.privateKey, B.kid))).statusCode).toBe(200)
  expectInvalid(await me(retired.app, await tokenFor(other, A.privateKey, A.kid)))
})

test('from AUTH_JWT_KEYS_DIR and AUTH_JWT_VERIFY_KEYS, duplicates included: each key once, in configuration order', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'auth-keys-'))
  writeFileSync(path.join(dir, 'current.pem'), C.pem)
  writeFileSync(path.join(dir, 'a.pem'), A.pem)
  writeFileSync(path.join(dir, 'b.pem'), B.publicPem)
  writeFileSync(path.join(dir, 'c-again.pem'), C.publicPem)
  const { app } = await buildTestApp({
    AUTH_JWT_PRIVATE_KEY: '',
    AUTH_JWT_KEYS_DIR: dir,
    AUTH_JWT_VERIFY_KEYS: `${B.publicPem}${A.publicPem}`,
  })
  expect(await kids(app)).toEqual([C.kid, B.kid, A.kid])
  const someone = await register(app)
  expect(decodeProtectedHeader(await login(app, someone)).kid).toBe(C.kid)
  for (const key of [A, B, C]) {
    expect((await me(app, await tokenFor(someone, key.privateKey, key.kid))).statusCode).toBe(200)
  }
})

test("DEV_SECRETS_DIR's development key signs, and the log warns that it is one", async () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'dev-secrets-')), 'secrets')
  const { app, logs } = await buildTestApp({ AUTH_JWT_PRIVATE_KEY: '', DEV_SECRETS_DIR: dir })
  const warnings = logs.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40)
  expect(warnings.map((entry) => entry.msg)).toContainEqual(
    expect.stringContaining(
      `signing tokens with a development key from DEV_SECRETS_DIR (${path.join(dir, 'auth-jwt-signing-key.pem')})`,
    ),
  )
  const someone = await register(app)
  expect((await me(app, await login(app, someone))).statusCode).toBe(200)
})
