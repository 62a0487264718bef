// Consecutive failed logins per username in auth.login_failures, the per-username
// backoff shared by every replica. Takes a Drizzle database, never the app.
//
// An attempt is charged before its password is checked, in one atomic statement
// that refuses it while the username is held back: concurrent attempts on one
// username, from any number of replicas and addresses, queue on its row lock, so
// while a hold runs none of them reaches argon2, and when it ends exactly one does
// (and starts the next, twice as long). A success deletes the row. Only the
// database's clock decides when a hold ends.
import type { Db } from '@app/service'
import { and, eq, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm'
import type { LoginBackoffConfig } from '../config.js'
import { loginFailures } from './schema.js'

export type LoginAttempt =
  /** Counted: go on and check the password (then `succeeded` on success). */
  | { allowed: true; failures: number }
  /** Held back: refuse without checking the password, for `retryAfterMs`. */
  | { allowed: false; retryAfterMs: number }

const { username, failures, blockedUntil, lastFailureAt } = loginFailures

export function createLoginFailuresRepository(db: Db, backoff: LoginBackoffConfig) {
  const ms = (placeholder: string) => sql`${sql.placeholder(placeholder)}::float8 * interval '1 millisecond'`
  // The hold after `count` failures: none below the threshold, then initial, 2x, 4x, ... up to
  // max. The exponent stops at 40 (initial x 2^40 is beyond any max) so the interval cannot overflow.
  const holdAfter = (count: SQL) =>
    sql`CASE WHEN ${count} >= ${sql.placeholder('afterFailures')}::int
      THEN now() + least(${ms('initialMs')} * power(2, least(${count} - ${sql.placeholder('afterFailures')}::int, 40)), ${ms('maxMs')})
      END`
  // Failures older than the reset interval no longer count: the next one starts at 1.
  const forgotten = lte(lastFailureAt, sql`now() - ${ms('resetMs')}`)
  const next = sql`CASE WHEN ${forgotten} THEN 1 ELSE ${failures} + 1 END`

  const attempt = db
    .insert(loginFailures)
    .values({
      username: sql.placeholder('username'),
      failures: 1,
      blockedUntil: holdAfter(sql`1`),
      lastFailureAt: sql`now()`,
    })
    .onConflictDoUpdate({
      target: username,
      set: { failures: next, blockedUntil: holdAfter(next), lastFailureAt: sql`now()` },
      // Held back: the row is left as it is (a refused attempt does not lengthen the hold).
      setWhere: or(isNull(blockedUntil), lte(blockedUntil, sql`now()`)),
    })
    .returning({ failures })
    .prepare('auth_login_failures_attempt')

  const holdLeft = db
    .select({ ms: sql<number | null>`ceil(extract(epoch FROM ${blockedUntil} - now()) * 1000)::float8` })
    .from(loginFailures)
    .where(eq(username, sql.placeholder('username')))
    .prepare('auth_login_failures_hold_left')

  const succeeded = db
    .delete(loginFailures)
    .where(eq(username, sql.placeholder('username')))
    .prepare('auth_login_failures_succeeded')

  const settings = {
    afterFailures: backoff.afterFailures,
    initialMs: backoff.initialMs,
    maxMs: backoff.maxMs,
    resetMs: backoff.resetMs,
  }

  return {
    /** Charges one attempt to `name` as a failure, unless it is held back. */
    async attempt(name: string): Promise<LoginAttempt> {
      const [row] = await attempt.execute({ username: name, ...settings })
      if (row) return { allowed: true, failures: row.failures }
      // The hold may have ended (or the row gone) since: then 1 ms, retry at once.
      const [left] = await holdLeft.execute({ username: name })
      return { allowed: false, retryAfterMs: Math.max(1, left?.ms ?? 1) }
    },

    /** A successful login: the username's failures are forgotten. */
    async succeeded(name: string): Promise<void> {
      await succeeded.execute({ username: name })
    },

    /**
     * Deletes up to `batchSize` rows whose failures are forgotten (none for the reset
     * interval) and whose hold has ended; returns how many. The condition is re-checked
     * on a row a concurrent attempt has just charged, so a live count is never deleted.
     */
    async deleteForgotten(batchSize = 1000): Promise<number> {
      const stale = and(
        lte(lastFailureAt, sql`now() - ${backoff.resetMs}::float8 * interval '1 millisecond'`),
        or(isNull(blockedUntil), lte(blockedUntil, sql`now()`)),
      )
      const batch = db.select({ username }).from(loginFailures).where(stale).limit(batchSize)
      const deleted = await db
        .delete(loginFailures)
        .where(and(stale, inArray(username, batch)))
        .returning({ username })
      return deleted.length
    },
  }
}

export type LoginFailuresRepository = ReturnType<typeof createLoginFailuresRepository>
