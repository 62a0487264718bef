// The auth schema's tables. Everything here lives in pgSchema('auth'): the service
// owns that schema and nothing else. Enums, if any, must be `auth.enum(...)`, never
// a bare pgEnum (it would land in public).
import {
  boolean,
  index,
  integer,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core'

export const auth = pgSchema('auth')

// Who a user is to the platform. Tokens carry it as scopes (src/tokens/scopes.ts):
// services check scopes, never roles. `make admin user=<name>` promotes a user.
export const userRole = auth.enum('user_role', ['user', 'admin'])

// Millisecond precision, so a timestamp survives the round trip through a JS Date
// (keyset pagination cursors depend on it). updated_at is kept current by the
// trigger in drizzle/0001_users_updated_at_trigger.sql, on every UPDATE, whoever
// issues it.
const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}

export const users = auth.table(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: varchar('username', { length: 32 }).notNull(),
    email: varchar('email', { length: 254 }).notNull(),
    passwordHash: text('password_hash').notNull(),
    disabled: boolean('disabled').notNull().default(false),
    role: userRole('role').notNull().default('user'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('users_username_key').on(table.username),
    // Emails are not unique: they are unverified contact details, and a unique index
    // would let registration tell anyone whether an address has an account (see
    // docs/api.md, "Registration and enumeration"). Usernames are the identity.
    // The keyset order of GET /auth/users.
    index('users_created_at_id_idx').on(table.createdAt, table.id),
  ],
)

// POST /auth/token's and POST /auth/users' rate limits, shared by every replica: one row
// per key (route and client address), counting the hits of its current fixed window, which
// ends at expires_at. Written by src/db/login-rate-limits-repository.ts, one atomic upsert per hit.
export const loginRateLimits = auth.table(
  'login_rate_limits',
  {
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  // The sweep's lookup of expired windows.
  (table) => [index('login_rate_limits_expires_at_idx').on(table.expiresAt)],
)

// POST /auth/token's per-username backoff, shared by every replica: consecutive
// failed logins for one username, from any address. After a few, the account's
// logins are refused until blocked_until, doubling with each further failure; a
// successful login deletes the row. Written by src/db/login-failures-repository.ts.
export const loginFailures = auth.table(
  'login_failures',
  {
    username: varchar('username', { length: 32 }).primaryKey(),
    failures: integer('failures').notNull(),
    blockedUntil: timestamp('blocked_until', { withTimezone: true, precision: 3 }),
    lastFailureAt: timestamp('last_failure_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  // The sweep's lookup of stale rows.
  (table) => [index('login_failures_last_failure_at_idx').on(table.lastFailureAt)],
)
