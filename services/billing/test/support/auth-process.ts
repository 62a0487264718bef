// The real auth service as a process (@app/testkit's startService: node
// services/auth/dist/server.js, as production starts it), logged in to the test's
// database as the runtime role auth_app. The template database is migrated
// already, so it starts as a replica behind a pre-deploy migration job does
// (MIGRATE_ON_START=false). Billing never imports auth's code.
import { generateKeyPairSync } from 'node:crypto'
import { promoteToAdmin, type ServiceProcess, startReadyService } from '@app/testkit'
import { expect } from 'vitest'

export function startAuth(options: { databaseUrl: string }): Promise<ServiceProcess> {
  return startReadyService({
    service: 'auth',
    env: {
      DATABASE_URL: options.databaseUrl,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'warn',
      // auth does not start without a signing key (it makes none outside DEV_SECRETS_DIR).
      AUTH_JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    },
  })
}

/**
 * A new user registered with auth and logged in (auth's contract is not billing's:
 * plain fetch); with `adminOf` (the superuser URL of auth's database) promoted to
 * admin first, as `make admin` does, so its token can write plans.
 */
export async function signUp(
  auth: ServiceProcess,
  username: string,
  options: { adminOf?: string } = {},
): Promise<{ id: string; token: string }> {
  const password = 'correct horse battery staple'
  const created = await fetch(`${auth.baseUrl}/auth/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.com`, password }),
  })
  expect(created.status).toBe(201)
  const { id } = (await created.json()) as { id: string }
  if (options.adminOf) await promoteToAdmin(options.adminOf, username)
  const login = await fetch(`${auth.baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password, grant_type: 'password' }),
  })
  expect(login.status).toBe(200)
  const { access_token: token } = (await login.json()) as { access_token: string }
  return { id, token }
}
