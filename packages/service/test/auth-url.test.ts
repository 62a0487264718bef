// AUTH_URL is a service's trust anchor (it fetches the keys it verifies tokens with
// there): https, except to a loopback host or on a network declared private.
import { Type } from 'typebox'
import { describe, expect, test } from 'vitest'
import { authClientEnv, ConfigError, loadEnv, toAuthClientConfig } from '../src/index.js'

const schema = Type.Object(authClientEnv({ audience: 'demo' }))
const config = (env: Record<string, string>) => toAuthClientConfig(loadEnv(schema, env))

describe('AUTH_URL', () => {
  test.each([
    'https://auth.example.com',
    'https://10.0.0.5:5008/',
    'http://localhost:5008',
    'http://127.0.0.1:5008',
    'http://127.8.9.10',
    'http://[::1]:5008',
    'http://auth.localhost:5008',
  ])('%s is accepted', (url) => {
    expect(config({ AUTH_URL: url }).url).toBe(url.replace(/\/$/, ''))
  })

  test('the default (auth on this machine) is accepted', () => {
    expect(config({}).url).toBe('http://127.0.0.1:5008')
  })

  test.each([
    'http://auth:5008',
    'http://10.0.0.5:5008',
    'http://auth.example.com',
    'http://localhost.evil.com',
  ])('plain %s stops startup, naming AUTH_URL and the way out', (url) => {
    let error: unknown
    try {
      config({ AUTH_URL: url })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(/AUTH_URL must be https:\/\//)
    expect((error as Error).message).toContain('AUTH_URL_ALLOW_HTTP=true')
  })

  test('AUTH_URL_ALLOW_HTTP=true accepts plain http on a private network (compose, the cluster)', () => {
    expect(config({ AUTH_URL: 'http://auth:5008', AUTH_URL_ALLOW_HTTP: 'true' }).url).toBe('http://auth:5008')
    expect(() => loadEnv(schema, { AUTH_URL_ALLOW_HTTP: 'yes' })).toThrow(
      /AUTH_URL_ALLOW_HTTP must be boolean/,
    )
  })

  test('the error never shows credentials written into the URL', () => {
    expect(() => config({ AUTH_URL: 'http://user:hunter2@auth:5008' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    )
  })
})
