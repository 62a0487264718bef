// Reads and writes of auth.users. Takes a Drizzle database or transaction, never
// the app. The hot reads are prepared statements (parsed and planned once per
// connection), built when the repository is created.
import type { Db } from '@app/service'
import { and, asc, eq, sql } from 'drizzle-orm'
import { users } from './schema.js'

/** A user as the service handles it: every column but the password hash. */
export interface UserRecord {
  id: string
  username: string
  email: string
  disabled: boolean
  createdAt: Date
  updatedAt: Date
}

export interface LoginRecord {
  id: string
  username: string
  passwordHash: string
  disabled: boolean
  /** What the user's tokens may do (as scopes: tokens/scopes.ts). */
  role: 'user' | 'admin'
}

/** The username is taken (emails are not unique: docs/api.md, "Registration and enumeration"). */
export class DuplicateUserError extends Error {
  readonly field = 'username'
  constructor() {
    super('a user with this username exists')
    this.name = 'DuplicateUserError'
  }
}

// The password hash is deliberately absent: it is read only for login.
const userColumns = {
  id: users.id,
  username: users.username,
  email: users.email,
  disabled: users.disabled,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
}

export function createUsersRepository(db: Db) {
  const byId = db
    .select(userColumns)
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare('auth_users_by_id')

  const forLogin = db
    .select({
      id: users.id,
      username: users.username,
      passwordHash: users.passwordHash,
      disabled: users.disabled,
      role: users.role,
    })
    .from(users)
    .where(eq(users.username, sql.placeholder('username')))
    .prepare('auth_users_for_login')

  const firstPage = db
    .select(userColumns)
    .from(users)
    .where(eq(users.disabled, false))
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(sql.placeholder('limit'))
    .prepare('auth_users_first_page')

  const nextPage = db
    .select(userColumns)
    .from(users)
    .where(
      and(
        eq(users.disabled, false),
        sql`(${users.createdAt}, ${users.id}) > (${sql.placeholder('createdAt')}::timestamptz, ${sql.placeholder('id')}::uuid)`,
      ),
    )
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(sql.placeholder('limit'))
    .prepare('auth_users_next_page')

  return {
    /** Throws DuplicateUserError when the username is taken. */
    async create(input: { username: string; email: string; passwordHash: string }): Promise<UserRecord> {
      try {
        const [row] = await db.insert(users).values(input).returning(userColumns)
        return row!
      } catch (error) {
        if (uniqueViolationConstraint(error) === 'users_username_key') throw new DuplicateUserError()
        throw error
      }
    },

    async findById(id: string): Promise<UserRecord | undefined> {
      const [row] = await byId.execute({ id })
      return row
    },

    /** The one read that includes the password hash. */
    async findForLogin(username: string): Promise<LoginRecord | undefined> {
      const [row] = await forLogin.execute({ username })
      return row
    },

    /** Enabled users in (created_at, id) order, after `after` when given. */
    list(limit: number, after?: { createdAt: Date; id: string }): Promise<UserRecord[]> {
      return after
        ? nextPage.execute({ limit, createdAt: after.createdAt.toISOString(), id: after.id })
        : firstPage.execute({ limit })
    },
  }
}

export type UsersRepository = ReturnType<typeof createUsersRepository>

/** The unique index a statement violated, looking through Drizzle's wrapping for pg's error. */
function uniqueViolationConstraint(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; constraint?: unknown; cause?: unknown }
    if (candidate.code === '23505' && typeof candidate.constraint === 'string') return candidate.constraint
    current = candidate.cause
  }
  return undefined
}
