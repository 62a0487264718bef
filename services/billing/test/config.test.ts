import { ConfigError } from '@app/service'
import { expect, test } from 'vitest'
import { loadConfig } from '../src/config.js'

const DATABASE_URL = 'postgres://billing:pw@127.0.0.1:5432/app'

test('defaults follow the auth <-> billing contract', () => {
  const config = loadConfig({ DATABASE_URL })
  expect(config.port).toBe(5009)
  // auth's default issuer (its development origin) and billing's own name as the audience.
  expect(config.auth).toMatchObject({
    url: 'http://127.0.0.1:5008',
    issuer: 'http://localhost:5008',
    audience: 'billing',
  })
  expect(config.idempotency).toEqual({ ttlSeconds: 86_400, sweepIntervalSeconds: 3600 })
  expect(Object.isFrozen(config) && Object.isFrozen(config.auth)).toBe(true)
})

test('AUTH_ISSUER must be an absolute URL without a path: anything else names the variable', () => {
  for (const issuer of [
    'auth',
    'localhost:5008',
    'https://auth.example.com/',
    'https://auth.example.com/x',
  ]) {
    expect(() => loadConfig({ DATABASE_URL, AUTH_ISSUER: issuer }), issuer).toThrow(
      /AUTH_ISSUER must match pattern/,
    )
  }
  expect(loadConfig({ DATABASE_URL, AUTH_ISSUER: 'https://auth.example.com' }).auth.issuer).toBe(
    'https://auth.example.com',
  )
})

// auth over plain http on a private network (compose's, the cluster's) must be declared so.
const PRIVATE = { AUTH_URL_ALLOW_HTTP: 'true' }

test('AUTH_URL loses its trailing slash, so paths never double it', () => {
  expect(loadConfig({ DATABASE_URL, ...PRIVATE, AUTH_URL: 'http://auth:5008/' }).auth.url).toBe(
    'http://auth:5008',
  )
})

test('AUTH_URL (where the keys billing trusts come from) is https, except to loopback or with AUTH_URL_ALLOW_HTTP', () => {
  expect(() => loadConfig({ DATABASE_URL, AUTH_URL: 'http://auth:5008' })).toThrow(
    /^invalid configuration:\n {2}AUTH_URL must be https:\/\//,
  )
  expect(loadConfig({ DATABASE_URL, AUTH_URL: 'https://auth.internal' }).auth.url).toBe(
    'https://auth.internal',
  )
  expect(loadConfig({ DATABASE_URL, AUTH_URL: 'http://localhost:5008' }).auth.url).toBe(
    'http://localhost:5008',
  )
})

test("AUTH_PUBLIC_URL (the docs' login form target) defaults to AUTH_URL", () => {
  expect(loadConfig({ DATABASE_URL, ...PRIVATE, AUTH_URL: 'http://auth:5008/' }).auth.publicUrl).toBe(
    'http://auth:5008',
  )
  const config = loadConfig({
    DATABASE_URL,
    ...PRIVATE,
    AUTH_URL: 'http://auth:5008',
    AUTH_PUBLIC_URL: 'http://localhost:5008/',
  })
  expect(config.auth).toMatchObject({ url: 'http://auth:5008', publicUrl: 'http://localhost:5008' })
})

test.each([
  ['AUTH_URL', 'auth:5008'],
  ['AUTH_PUBLIC_URL', 'localhost:5008'],
  ['AUTH_TIMEOUT_MS', '0'],
  ['IDEMPOTENCY_KEY_TTL_SECONDS', '10'],
  ['IDEMPOTENCY_SWEEP_INTERVAL_SECONDS', '99999999'],
])('a bad %s stops startup naming the variable', (name, value) => {
  expect(() => loadConfig({ DATABASE_URL, [name]: value })).toThrow(ConfigError)
  expect(() => loadConfig({ DATABASE_URL, [name]: value })).toThrow(
    new RegExp(`^invalid configuration:\\n  ${name} `),
  )
})
