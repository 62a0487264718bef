// Admins for tests: auth gives the admin role only through the database (`make admin`,
// which runs as auth's owner role), so a test registers a user over HTTP, promotes it
// the same way, and logs in: its token then carries the admin's scopes
// (users:read billing:plans:write), exactly as a real admin's would.
import { randomBytes } from 'node:crypto'
import { ownerUrl } from '@app/migrations/authoring'
import pg from 'pg'

/** Gives `username` the admin role, as auth's owner role on the database of `adminUrl` (a superuser URL). */
export async function promoteToAdmin(adminUrl: string, username: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl(adminUrl, { name: 'auth' }, {}) })
  await client.connect()
  try {
    const { rowCount } = await client.query("UPDATE auth.users SET role = 'admin' WHERE username = $1", [
      username,
    ])
    if (rowCount !== 1) throw new Error(`promoteToAdmin: auth has no user named ${username}`)
  } finally {
    await client.end()
  }
}

export interface TestUser {
  id: string
  username: string
  email: string
  password: string
  /** An access token of this user, issued after any promotion. */
  token: string
}

/**
 * A new user registered at the auth service of `authUrl` (a running process), logged
 * in; with `admin: true` promoted first (needs `adminUrl`, the superuser URL of auth's
 * database), so the token carries the admin's scopes.
 */
export async function registeredUser(options: {
  authUrl: string
  admin?: boolean
  adminUrl?: string
  prefix?: string
}): Promise<TestUser> {
  const tag = randomBytes(5).toString('hex')
  const name = `${options.prefix ?? (options.admin ? 'admin' : 'user')}_${tag}`
  const user = { username: name, email: `${name}@example.com`, password: `password-${tag}-${tag}` }
  const registered = await fetch(`${options.authUrl}/auth/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  })
  if (registered.status !== 201) {
    throw new Error(`registering ${name}: ${registered.status} ${await registered.text()}`)
  }
  const { id } = (await registered.json()) as { id: string }
  if (options.admin) {
    if (!options.adminUrl) throw new Error('registeredUser: admin: true needs adminUrl')
    await promoteToAdmin(options.adminUrl, name)
  }
  const login = await fetch(`${options.authUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: name, password: user.password }).toString(),
  })
  if (login.status !== 200) throw new Error(`logging in ${name}: ${login.status} ${await login.text()}`)
  const { access_token: token } = (await login.json()) as { access_token: string }
  return { ...user, id, token }
}
