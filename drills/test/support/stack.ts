// The two services as processes on one database, as `make dev` runs them, and the
// few API steps every drill needs (register, log in, make an admin).
import { randomBytes } from 'node:crypto'
import { promoteToAdmin } from '@app/testkit'
import { expect } from 'vitest'
import { type ServiceName, service, serviceDatabase } from './databases.js'
import { form, json, send } from './http.js'
import { type ServiceProcess, type StartOptions, startReadyService } from './service-process.js'
import type { SigningKey } from './tokens.js'

type Extra = Partial<Pick<StartOptions, 'env' | 'port'>>

function serviceOptions(
  name: ServiceName,
  databaseUrl: string,
  env: Record<string, string>,
  extra: Extra,
): StartOptions {
  return {
    name,
    dir: service(name).dir,
    ...serviceDatabase(databaseUrl, name),
    ...(extra.port ? { port: extra.port } : {}),
    env: { ...env, ...extra.env },
  }
}

export function authOptions(databaseUrl: string, key: SigningKey, extra: Extra = {}): StartOptions {
  return serviceOptions(
    'auth',
    databaseUrl,
    {
      AUTH_JWT_PRIVATE_KEY: key.pem,
      // The drills log in and register far more often than people do; the brute-force
      // and registration-flood drills set their own limits.
      AUTH_TOKEN_RATE_LIMIT_MAX: '1000000',
      AUTH_REGISTER_RATE_LIMIT_MAX: '1000000',
    },
    extra,
  )
}

export function billingOptions(databaseUrl: string, authUrl: string, extra: Extra = {}): StartOptions {
  return serviceOptions(
    'billing',
    databaseUrl,
    {
      AUTH_URL: authUrl,
      // A 2-core machine busy with the drills (and other suites) must not turn a slow
      // answer from auth into a 503 that the drill would blame on its input.
      AUTH_TIMEOUT_MS: '30000',
    },
    extra,
  )
}

export function startAuth(databaseUrl: string, key: SigningKey, extra: Extra = {}): Promise<ServiceProcess> {
  return startReadyService(authOptions(databaseUrl, key, extra))
}

export function startBilling(
  databaseUrl: string,
  authUrl: string,
  extra: Extra = {},
): Promise<ServiceProcess> {
  return startReadyService(billingOptions(databaseUrl, authUrl, extra))
}

export interface User {
  id: string
  username: string
  email: string
  password: string
}

export function newUser(overrides: Partial<Omit<User, 'id'>> = {}): Omit<User, 'id'> {
  const tag = randomBytes(5).toString('hex')
  return {
    username: `drill_${tag}`,
    email: `drill_${tag}@example.com`,
    password: `drill-password-${tag}`,
    ...overrides,
  }
}

export async function register(
  auth: ServiceProcess,
  overrides: Partial<Omit<User, 'id'>> = {},
): Promise<User> {
  const user = newUser(overrides)
  const response = await send(auth.baseUrl, { method: 'POST', path: '/auth/users', ...json(user) })
  expect(response.status, response.text).toBe(201)
  return { ...user, id: response.json<{ id: string }>().id }
}

/**
 * A user with auth's admin role (given as `make admin` gives it, on the database of
 * `adminUrl`): its tokens carry billing:plans:write, which creating plans takes.
 */
export async function registerAdmin(
  auth: ServiceProcess,
  adminUrl: string,
  overrides: Partial<Omit<User, 'id'>> = {},
): Promise<User> {
  const user = await register(auth, {
    username: `drill_admin_${randomBytes(5).toString('hex')}`,
    ...overrides,
  })
  await promoteToAdmin(adminUrl, user.username)
  return user
}

export async function login(
  auth: ServiceProcess,
  user: { username: string; password: string },
): Promise<string> {
  const response = await send(auth.baseUrl, {
    method: 'POST',
    path: '/auth/token',
    ...form({ username: user.username, password: user.password }),
  })
  expect(response.status, response.text).toBe(200)
  return response.json<{ access_token: string }>().access_token
}
