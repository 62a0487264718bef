import { Type } from 'typebox'
import { describe, expect, test } from 'vitest'
import { ConfigError, loadEnv, serviceEnv, toServiceConfig } from '../src/index.js'

const schema = Type.Object({
  ...serviceEnv({ port: 5008 }),
  EXTRA_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
})

describe('loadEnv', () => {
  test('applies defaults and coerces numbers', () => {
    const env = loadEnv(schema, { DATABASE_URL: 'postgres://a:b@h:5432/d', PORT: '6000', UNRELATED: 'x' })
    expect(toServiceConfig(env)).toMatchObject({
      port: 6000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://a:b@h:5432/d',
    })
    expect(env.EXTRA_SECONDS).toBe(60)
    expect(env).not.toHaveProperty('UNRELATED')
  })

  test('names every bad or missing variable and what it expects', () => {
    let error: unknown
    try {
      loadEnv(schema, { PORT: 'eighty', LOG_LEVEL: 'loud', EXTRA_SECONDS: '' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message).toContain('DATABASE_URL is required')
    expect(message).toContain('PORT must be integer (got "eighty")')
    expect(message).toContain('LOG_LEVEL')
    expect(message).not.toContain('EXTRA_SECONDS')
  })
})

describe('TRUST_PROXY', () => {
  const base = { DATABASE_URL: 'postgres://a@h/d' }
  test('defaults to trusting no proxy; accepts true, a hop count or proxy addresses', () => {
    expect(toServiceConfig(loadEnv(schema, base)).trustProxy).toBe(false)
    expect(toServiceConfig(loadEnv(schema, { ...base, TRUST_PROXY: 'true' })).trustProxy).toBe(true)
    expect(
      toServiceConfig(loadEnv(schema, { ...base, TRUST_PROXY: '10.0.0.0/8,127.0.0.1' })).trustProxy,
    ).toBe('10.0.0.0/8,127.0.0.1')
    const hops = toServiceConfig(loadEnv(schema, { ...base, TRUST_PROXY: '1' })).trustProxy as (
      a: string,
      hop: number,
    ) => boolean
    expect([hops('x', 0), hops('x', 1)]).toEqual([true, false])
  })

  test('anything else fails at startup naming the variable', () => {
    expect(() => loadEnv(schema, { ...base, TRUST_PROXY: 'yes please' })).toThrow(
      /TRUST_PROXY must match pattern/,
    )
  })
})
