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

  test('takes a number or boolean only from text that is wholly one, never rounding it', () => {
    const base = { DATABASE_URL: 'postgres://a@h/d' }
    expect(loadEnv(schema, { ...base, PORT: ' 6000 ', MIGRATE_ON_START: 'false' })).toMatchObject({
      PORT: 6000,
      MIGRATE_ON_START: false,
    })
    for (const [name, value, expected] of [
      ['DB_POOL_MAX', '5.5', 'must be integer'],
      ['DB_POOL_MAX', '5 connections', 'must be integer'],
      ['DB_POOL_MAX', 'Infinity', 'must be integer'],
      ['MIGRATE_ON_START', '1', 'must be boolean'],
      ['MIGRATE_ON_START', 'TRUE', 'must be boolean'],
    ]) {
      expect(() => loadEnv(schema, { ...base, [name!]: value }), `${name}=${value}`).toThrow(
        `${name} ${expected} (got ${JSON.stringify(value)})`,
      )
    }
  })
})

describe('TRUST_PROXY', () => {
  const base = { DATABASE_URL: 'postgres://a@h/d' }
  test('defaults to trusting no proxy; accepts a hop count or proxy addresses', () => {
    expect(toServiceConfig(loadEnv(schema, base)).trustProxy).toBe(false)
    expect(
      toServiceConfig(loadEnv(schema, { ...base, TRUST_PROXY: '10.0.0.0/8,127.0.0.1' })).trustProxy,
    ).toBe('10.0.0.0/8,127.0.0.1')
    const hops = toServiceConfig(loadEnv(schema, { ...base, TRUST_PROXY: '1' })).trustProxy as (
      a: string,
      hop: number,
    ) => boolean
    expect([hops('x', 0), hops('x', 1)]).toEqual([true, false])
  })

  test('"true" (believe every hop: any client could name its own address) and anything else fail at startup', () => {
    for (const value of ['true', 'yes please', '*']) {
      expect(() => loadEnv(schema, { ...base, TRUST_PROXY: value }), value).toThrow(
        /TRUST_PROXY must match pattern/,
      )
    }
  })
})

describe('connections and lifecycle variables', () => {
  const base = { DATABASE_URL: 'postgres://auth_app:pw@h:5432/d' }
  test('migrations use MIGRATION_DATABASE_URL, else DATABASE_URL; the rest have production defaults', () => {
    expect(toServiceConfig(loadEnv(schema, base))).toMatchObject({
      databaseUrl: base.DATABASE_URL,
      migrationDatabaseUrl: base.DATABASE_URL,
      migrateOnStart: true,
      migrationLock: { timeoutMs: 5000, retries: 4 },
      shutdownDrainMs: 5000,
      dbPreparedStatements: true,
      dbPipelineConnections: 2,
    })
    const owner = 'postgres://auth:pw@db:5432/d'
    expect(
      toServiceConfig(
        loadEnv(schema, {
          ...base,
          MIGRATION_DATABASE_URL: owner,
          MIGRATE_ON_START: 'false',
          SHUTDOWN_DRAIN_MS: '0',
          DB_PREPARED_STATEMENTS: 'false',
          DB_PIPELINE_CONNECTIONS: '0',
          MIGRATION_LOCK_TIMEOUT_MS: '2000',
          MIGRATION_LOCK_RETRIES: '0',
        }),
      ),
    ).toMatchObject({
      migrationDatabaseUrl: owner,
      migrateOnStart: false,
      shutdownDrainMs: 0,
      dbPreparedStatements: false,
      dbPipelineConnections: 0,
      migrationLock: { timeoutMs: 2000, retries: 0 },
    })
  })

  test('DB_STATEMENT_TIMEOUT_MS is refused, saying where the statement timeout lives now', () => {
    expect(() => loadEnv(schema, { ...base, DB_STATEMENT_TIMEOUT_MS: '5000' })).toThrow(
      /DB_STATEMENT_TIMEOUT_MS is no longer read: the statement timeout of requests is the runtime role's own setting/,
    )
  })

  test('a rejected URL is shown without its password', () => {
    let message = ''
    try {
      loadEnv(schema, {
        DATABASE_URL: 'mysql://auth_app:hunter2@h/d',
        MIGRATION_DATABASE_URL: 'nope:hunter2',
      })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain('DATABASE_URL must match pattern')
    expect(message).toContain('mysql://auth_app:***@h/d')
    expect(message).toContain('MIGRATION_DATABASE_URL must match pattern')
    expect(message).not.toContain('hunter2')
  })

  test('booleans are true or false, named when wrong', () => {
    expect(() => loadEnv(schema, { ...base, MIGRATE_ON_START: 'sometimes' })).toThrow(
      /MIGRATE_ON_START must be boolean \(got "sometimes"\)/,
    )
  })
})
