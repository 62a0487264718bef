// `make admin user=<username>`: gives a user auth's admin role, whose tokens carry
// the admin scopes (users:read billing:plans:write). Roles change only here, as
// auth's owner role (the migrations' connection), never through the API: there is
// no first admin to grant it. Idempotent. The user gets the scopes at their next
// login (tokens already issued keep theirs until they expire).
import { ownerUrl, requireService, UsageError } from '@app/migrations/authoring'
import pg from 'pg'
import { describeAdmin, openAdminDatabase } from '../admin-database.js'
import type { Command } from '../command.js'

export type PromoteOutcome = 'promoted' | 'already admin'

/** Gives `username` the admin role on the database of `url` (auth's owner role). */
export async function promoteToAdmin(url: string, username: string): Promise<PromoteOutcome> {
  const client = new pg.Client({ connectionString: url, application_name: 'ops admin' })
  await client.connect()
  try {
    const { rows } = await client.query<{ role: string }>(
      `WITH target AS (SELECT id, role AS before FROM auth.users WHERE username = $1 FOR UPDATE),
            promoted AS (UPDATE auth.users SET role = 'admin' FROM target
                         WHERE users.id = target.id AND target.before <> 'admin' RETURNING users.id)
       SELECT before::text AS role FROM target`,
      [username],
    )
    if (rows.length === 0) {
      throw new Error(`auth has no user named '${username}': register it first (POST /auth/users)`)
    }
    return rows[0]!.role === 'admin' ? 'already admin' : 'promoted'
  } catch (error) {
    if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '42703') {
      throw new Error(`auth's tables are not migrated on this database: run make migrate svc=auth first`)
    }
    throw error
  } finally {
    await client.end()
  }
}

export const adminCommand: Command = {
  name: 'admin',
  usage: 'admin --user <username>',
  summary: "give a user auth's admin role (its next login gets the admin scopes)",
  async run({ options, env, out }) {
    const username = options.user
    if (!username) throw new UsageError('user is required: make admin user=<username>')
    const auth = requireService('auth')
    const admin = await openAdminDatabase(env, out)
    try {
      const outcome = await promoteToAdmin(ownerUrl(admin.url, auth, env), username)
      out(
        outcome === 'promoted'
          ? `auth: ${username} is now an admin on ${describeAdmin(admin)}; their next login gets the admin scopes (users:read billing:plans:write)`
          : `auth: ${username} is already an admin on ${describeAdmin(admin)}; nothing changed`,
      )
      return 0
    } finally {
      await admin.release()
    }
  },
}
