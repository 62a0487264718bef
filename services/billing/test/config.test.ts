import { ConfigError } from '@app/service'
import { expect, test } from 'vitest'
import { loadConfig } from '../src/config.js'

const DATABASE_URL = 'postgres://billing:pw@127.0.0.1:5432/app'

test('defaults follow the auth <-> billing contract', () => {
  const config = loadConfig({ DATABASE_URL })
  expect(config.port).toBe(5009)
  expect(config.auth).toMatchObject({ url: 'http://127.0.0.1:5008', issuer: 'auth', audience: 'services' })
  expect(config.idempotency).toEqual({ ttlSeconds: 86_400, sweepIntervalSeconds: 3600 })
  expect(Object.isFrozen(config) && Object.isFrozen(config.auth)).toBe(true)
})

test('AUTH_URL loses its trailing slash, so paths never double it', () => {
  expect(loadConfig({ DATABASE_URL, AUTH_URL: 'http://auth:5008/' }).auth.url).toBe('http://auth:5008')
})

test("AUTH_PUBLIC_URL (the docs' login form target) defaults to AUTH_URL", () => {
  expect(loadConfig({ DATABASE_URL, AUTH_URL: 'http://auth:5008/' }).auth.publicUrl).toBe('http://auth:5008')
  const config = loadConfig({
    DATABASE_URL,
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
