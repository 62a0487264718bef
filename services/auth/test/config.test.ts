import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConfigError } from '@app/http'
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../src/config.js'

const base = { DATABASE_URL: 'postgres://auth:pw@127.0.0.1:5432/app' }
const pem = (type: 'ed25519' | 'ec' = 'ed25519') =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('ed25519').privateKey
  )
    .export({ format: 'pem', type: 'pkcs8' })
    .toString()

function problem(env: Record<string, string>): string {
  try {
    loadConfig({ ...base, ...env })
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('loadConfig accepted it')
}

describe('signing key', () => {
  test('none configured: null, and the defaults of the contract', () => {
    const config = loadConfig(base)
    expect(config.jwt).toMatchObject({
      privateKey: null,
      keySource: null,
      issuer: 'auth',
      audience: 'services',
      ttlSeconds: 900,
    })
    expect(config.port).toBe(5008)
    expect(config.tokenRateLimit).toEqual({ max: 10, windowMs: 60_000 })
  })

  test('from AUTH_JWT_PRIVATE_KEY, also with literal \\n escapes', () => {
    const key = pem()
    expect(loadConfig({ ...base, AUTH_JWT_PRIVATE_KEY: key }).jwt.keySource).toBe('AUTH_JWT_PRIVATE_KEY')
    const oneLine = key.trim().replaceAll('\n', '\\n')
    expect(loadConfig({ ...base, AUTH_JWT_PRIVATE_KEY: oneLine }).jwt.privateKey?.asymmetricKeyType).toBe(
      'ed25519',
    )
  })

  test('from AUTH_JWT_PRIVATE_KEY_FILE', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'auth-key-')), 'key.pem')
    writeFileSync(file, pem())
    expect(loadConfig({ ...base, AUTH_JWT_PRIVATE_KEY_FILE: file }).jwt.keySource).toBe(
      'AUTH_JWT_PRIVATE_KEY_FILE',
    )
  })

  test('bad key settings name the variable and never print the key', () => {
    const ec = pem('ec')
    expect(problem({ AUTH_JWT_PRIVATE_KEY: 'hunter2-not-a-key' })).toMatch(
      /^invalid configuration:\n {2}AUTH_JWT_PRIVATE_KEY must be/,
    )
    expect(problem({ AUTH_JWT_PRIVATE_KEY: 'hunter2-not-a-key' })).not.toContain('hunter2')
    const broken = `-----BEGIN PRIVATE KEY-----\nhunter2\n-----END PRIVATE KEY-----\n`
    expect(problem({ AUTH_JWT_PRIVATE_KEY: broken })).toContain('AUTH_JWT_PRIVATE_KEY is not a readable')
    expect(problem({ AUTH_JWT_PRIVATE_KEY: broken })).not.toContain('hunter2')
    const wrongType = problem({ AUTH_JWT_PRIVATE_KEY: ec })
    expect(wrongType).toContain('AUTH_JWT_PRIVATE_KEY is a ec key')
    expect(wrongType).not.toContain(ec.split('\n')[1]!)
    expect(problem({ AUTH_JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' })).toContain(
      'AUTH_JWT_PRIVATE_KEY_FILE cannot be read (ENOENT)',
    )
    expect(problem({ AUTH_JWT_PRIVATE_KEY: pem(), AUTH_JWT_PRIVATE_KEY_FILE: '/x' })).toContain('both set')
  })

  test('other auth settings are checked too', () => {
    expect(problem({ AUTH_TOKEN_TTL_SECONDS: '5' })).toContain('AUTH_TOKEN_TTL_SECONDS')
    expect(problem({ AUTH_TOKEN_RATE_LIMIT_MAX: '0' })).toContain('AUTH_TOKEN_RATE_LIMIT_MAX')
  })
})

describe('AUTH_CORS_ORIGINS', () => {
  test("defaults to billing's local docs origins", () => {
    expect(loadConfig(base).tokenCorsOrigins).toEqual(['http://localhost:5009', 'http://127.0.0.1:5009'])
  })

  test('a comma-separated list, written as browsers send Origin; or *', () => {
    const origins = (value: string) => loadConfig({ ...base, AUTH_CORS_ORIGINS: value }).tokenCorsOrigins
    expect(origins('https://Docs.Example.com/ , http://10.0.0.5:5009')).toEqual([
      'https://docs.example.com',
      'http://10.0.0.5:5009',
    ])
    expect(origins('*')).toEqual(['*'])
  })

  test('a path, a bare host or a list around * names the variable', () => {
    for (const value of ['http://localhost:5009/docs', 'localhost:5009', 'http://a:1,*', 'http://a:1,']) {
      expect(problem({ AUTH_CORS_ORIGINS: value }), value).toContain('AUTH_CORS_ORIGINS')
    }
  })
})
