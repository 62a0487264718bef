// Builds the auth app exactly as production does, on a database of its own cloned
// from the migrated template, connected as the runtime role auth_app (DML only),
// with the production logger (redaction included) writing into `logs` instead of stdout.
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { Writable } from 'node:stream'
import { createScratchDatabase } from '@app/db'
import { runtimeUrl } from '@app/migrations/authoring'
import { loggerOptions } from '@app/service'
import { promoteToAdmin } from '@app/testkit'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, expect, inject } from 'vitest'
import { type AuthApp, buildApp } from '../src/app.js'
import { type AuthConfig, loadConfig } from '../src/config.js'

export interface TestApp {
  app: AuthApp
  config: AuthConfig
  /** Superuser URL of this test's database, for assertions on what it holds. */
  adminUrl: string
  /** The current (signing) key the app uses, so tests can forge tokens (expired, etc.) with it. */
  privateKey: KeyObject
  /** Every log line the app wrote, as JSON text. */
  logs: string[]
}

export interface BuildOptions {
  /** Build another replica of that app: its database (not dropped by this one) and signing key. */
  replicaOf?: TestApp
  /** Rewrites auth's database URL, e.g. to reach PostgreSQL through a proxy the test can cut. */
  databaseUrl?: (url: string) => string | Promise<string>
}

export async function buildTestApp(
  env: Record<string, string> = {},
  options: BuildOptions = {},
): Promise<TestApp> {
  const run = inject('testRun')
  const database = options.replicaOf
    ? { url: options.replicaOf.adminUrl, drop: async () => {} }
    : await createScratchDatabase(run.adminUrl, {
        prefix: `${run.prefix}_auth`,
        template: run.prepared.template,
      })
  const privateKey = options.replicaOf?.privateKey ?? generateKeyPairSync('ed25519').privateKey
  const authUrl = runtimeUrl(database.url, { name: 'auth' }, {})
  const config = loadConfig({
    DATABASE_URL: options.databaseUrl ? await options.databaseUrl(authUrl) : authUrl,
    AUTH_JWT_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    // Suites log in and register more often than a person would; the rate limit tests set their own.
    AUTH_TOKEN_RATE_LIMIT_MAX: '1000',
    AUTH_REGISTER_RATE_LIMIT_MAX: '1000',
    ...env,
  })
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const logger = loggerOptions({ level: 'trace', name: 'auth' }, stream)
  const app = await buildApp(config, { logger })
  await app.ready()
  app.lifecycle.markReady()
  afterAll(async () => {
    await app.close()
    await database.drop()
  })
  // config's, not the generated one: a test may configure its own keys in `env`.
  return { app, config, adminUrl: database.url, privateKey: config.jwt.privateKey, logs }
}

/** Runs SQL as the superuser on the test's database (bypassing the app). */
export { queryOnce as sql } from '@app/db'

let counter = 0

/** A fresh, valid registration body. */
export function newUser(overrides: Partial<{ username: string; email: string; password: string }> = {}) {
  counter += 1
  const tag = `${process.pid}${counter}${Math.random().toString(36).slice(2, 6)}`
  return {
    username: `user_${tag}`,
    email: `user_${tag}@example.com`,
    password: `secret-password-${tag}`,
    ...overrides,
  }
}

export async function register(app: AuthApp, body = newUser()) {
  const res = await app.inject({ method: 'POST', url: '/auth/users', payload: body })
  expect(res.statusCode, res.body).toBe(201)
  return { ...body, id: res.json<{ id: string }>().id, response: res }
}

export function requestToken(
  app: AuthApp,
  fields: Record<string, string>,
  options: { remoteAddress?: string } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/auth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
    ...options,
  })
}

/**
 * A registered user promoted to admin as `make admin` does (an UPDATE as auth's owner
 * role), before logging in: its tokens carry the admin's scopes.
 */
export async function registerAdmin(t: Pick<TestApp, 'app' | 'adminUrl'>, body = newUser()) {
  const user = await register(t.app, body)
  await promoteToAdmin(t.adminUrl, user.username)
  return user
}

export async function login(app: AuthApp, user: { username: string; password: string }): Promise<string> {
  const res = await requestToken(app, { username: user.username, password: user.password })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<{ access_token: string }>().access_token
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` }
}
