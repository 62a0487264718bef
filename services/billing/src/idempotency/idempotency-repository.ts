// Storage of Idempotency-Key records (billing.idempotency_keys). A record older
// than the retention period counts as absent: it can be claimed again and the
// sweep deletes it.

import type { Db } from '@app/service'
import { and, eq, gte, lt, sql } from 'drizzle-orm'
import { idempotencyKeys } from '../db/schema.js'

export interface KeyScope {
  userId: string
  key: string
}

export interface KeyRecord {
  requestHash: string
  statusCode: number | null
  responseBody: unknown
}

const cutoff = (ttlSeconds: number) => sql`now() - make_interval(secs => ${ttlSeconds})`

export async function findLiveKey(db: Db, scope: KeyScope, ttlSeconds: number) {
  const [row] = await db
    .select({
      requestHash: idempotencyKeys.requestHash,
      statusCode: idempotencyKeys.statusCode,
      responseBody: idempotencyKeys.responseBody,
    })
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.userId, scope.userId),
        eq(idempotencyKeys.key, scope.key),
        gte(idempotencyKeys.createdAt, cutoff(ttlSeconds)),
      ),
    )
  return row as KeyRecord | undefined
}

/**
 * Inserts the key's record, or takes over an expired one; false when a live record
 * exists. The unique (user_id, key) makes a concurrent claim of the same key wait
 * here until this transaction commits (then it sees the record) or rolls back
 * (then it claims the key itself).
 */
export async function claimKey(
  tx: Db,
  scope: KeyScope,
  requestHash: string,
  ttlSeconds: number,
): Promise<boolean> {
  const claimed = await tx
    .insert(idempotencyKeys)
    .values({ userId: scope.userId, key: scope.key, requestHash })
    .onConflictDoUpdate({
      target: [idempotencyKeys.userId, idempotencyKeys.key],
      set: { requestHash, statusCode: null, responseBody: null, createdAt: sql`now()` },
      setWhere: lt(idempotencyKeys.createdAt, cutoff(ttlSeconds)),
    })
    .returning({ userId: idempotencyKeys.userId })
  return claimed.length === 1
}

export async function completeKey(
  tx: Db,
  scope: KeyScope,
  response: { statusCode: number; body: unknown },
): Promise<void> {
  await tx
    .update(idempotencyKeys)
    .set({ statusCode: response.statusCode, responseBody: response.body })
    .where(and(eq(idempotencyKeys.userId, scope.userId), eq(idempotencyKeys.key, scope.key)))
}

/** Deletes up to `batchSize` expired records; returns how many it deleted. */
export async function deleteExpiredKeys(db: Db, ttlSeconds: number, batchSize = 1000): Promise<number> {
  const expired = db
    .select({ userId: idempotencyKeys.userId, key: idempotencyKeys.key })
    .from(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, cutoff(ttlSeconds)))
    .limit(batchSize)
  const deleted = await db
    .delete(idempotencyKeys)
    .where(sql`(${idempotencyKeys.userId}, ${idempotencyKeys.key}) IN (${expired})`)
    .returning({ key: idempotencyKeys.key })
  return deleted.length
}
