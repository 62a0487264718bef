// Storage of Idempotency-Key records (billing.idempotency_keys). A record older
// than the retention period counts as absent: it can be claimed again and the
// sweep deletes it.

import { type Db, preparedPerSession } from '@app/service'
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
// In the statements every keyed write runs (prepared once per session): the TTL as a parameter.
const preparedCutoff = sql`now() - make_interval(secs => ${sql.placeholder('ttlSeconds')}::double precision)`

const liveKey = preparedPerSession((db: Db) =>
  db
    .select({
      requestHash: idempotencyKeys.requestHash,
      statusCode: idempotencyKeys.statusCode,
      responseBody: idempotencyKeys.responseBody,
    })
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.userId, sql.placeholder('userId')),
        eq(idempotencyKeys.key, sql.placeholder('key')),
        gte(idempotencyKeys.createdAt, preparedCutoff),
      ),
    )
    .prepare('billing_find_live_idempotency_key'),
)

export async function findLiveKey(db: Db, scope: KeyScope, ttlSeconds: number) {
  const [row] = await liveKey(db).execute({ userId: scope.userId, key: scope.key, ttlSeconds })
  return row as KeyRecord | undefined
}

const claim = preparedPerSession((db: Db) =>
  db
    .insert(idempotencyKeys)
    .values({
      userId: sql.placeholder('userId'),
      key: sql.placeholder('key'),
      requestHash: sql.placeholder('requestHash'),
    })
    .onConflictDoUpdate({
      target: [idempotencyKeys.userId, idempotencyKeys.key],
      set: {
        requestHash: sql`excluded.${sql.identifier(idempotencyKeys.requestHash.name)}`,
        statusCode: null,
        responseBody: null,
        createdAt: sql`now()`,
      },
      setWhere: lt(idempotencyKeys.createdAt, preparedCutoff),
    })
    .returning({ userId: idempotencyKeys.userId })
    .prepare('billing_claim_idempotency_key'),
)

const complete = preparedPerSession((db: Db) =>
  db
    .update(idempotencyKeys)
    // Drizzle's update types take no placeholder: raw parameters, the body as JSON text.
    .set({
      statusCode: sql`${sql.placeholder('statusCode')}`,
      responseBody: sql`${sql.placeholder('responseBody')}::jsonb`,
    })
    .where(
      and(
        eq(idempotencyKeys.userId, sql.placeholder('userId')),
        eq(idempotencyKeys.key, sql.placeholder('key')),
      ),
    )
    .prepare('billing_complete_idempotency_key'),
)

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
  const claimed = await claim(tx).execute({ userId: scope.userId, key: scope.key, requestHash, ttlSeconds })
  return claimed.length === 1
}

export async function completeKey(
  tx: Db,
  scope: KeyScope,
  response: { statusCode: number; body: unknown },
): Promise<void> {
  await complete(tx).execute({
    userId: scope.userId,
    key: scope.key,
    statusCode: response.statusCode,
    responseBody: JSON.stringify(response.body),
  })
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
