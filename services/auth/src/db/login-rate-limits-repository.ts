// Counting hits in auth.login_rate_limits, the login rate limit's store shared by
// every replica. Takes a Drizzle database, never the app. One hit is one atomic
// statement (an upsert returning the new count), so hits from any number of
// replicas at once are all counted; the database's clock alone decides when a
// window ends, so the replicas' clocks do not matter.

import type { Db } from '@app/service'
import { and, inArray, lte, sql } from 'drizzle-orm'
import { loginRateLimits } from './schema.js'

export interface WindowCount {
  /** Hits in the key's current window, this one included. */
  hits: number
  /** Milliseconds until that window ends. */
  ttlMs: number
}

const { key, hits, expiresAt } = loginRateLimits
const expired = lte(expiresAt, sql`now()`)

export function createLoginRateLimitsRepository(db: Db) {
  // A fixed window: the first hit of a key, or the first after its window ended,
  // starts a window of `windowMs` at 1; any other adds 1 to the running window.
  // Concurrent hits on one key queue on its row lock and each sees the one before.
  const hit = db
    .insert(loginRateLimits)
    .values({
      key: sql.placeholder('key'),
      hits: 1,
      expiresAt: sql`now() + ${sql.placeholder('windowMs')}::float8 * interval '1 millisecond'`,
    })
    .onConflictDoUpdate({
      target: key,
      set: {
        hits: sql`CASE WHEN ${expired} THEN 1 ELSE ${hits} + 1 END`,
        expiresAt: sql`CASE WHEN ${expired} THEN excluded.expires_at ELSE ${expiresAt} END`,
      },
    })
    .returning({
      hits,
      ttlMs: sql<number>`ceil(extract(epoch FROM ${expiresAt} - now()) * 1000)::float8`,
    })
    .prepare('auth_login_rate_limits_hit')

  return {
    /** Counts one hit on `key` in a window of `windowMs`. */
    async hit(rateLimitKey: string, windowMs: number): Promise<WindowCount> {
      const [row] = await hit.execute({ key: rateLimitKey, windowMs })
      return row!
    },

    /**
     * Deletes up to `batchSize` keys whose window has ended; returns how many. The
     * outer condition is re-checked on a row a concurrent hit has just restarted,
     * so a live window is never deleted.
     */
    async deleteExpired(batchSize = 1000): Promise<number> {
      const batch = db.select({ key }).from(loginRateLimits).where(expired).limit(batchSize)
      const deleted = await db
        .delete(loginRateLimits)
        .where(and(expired, inArray(key, batch)))
        .returning({ key })
      return deleted.length
    },
  }
}

export type LoginRateLimitsRepository = ReturnType<typeof createLoginRateLimitsRepository>
