// The plans (billing.subscriptions).

import { type Db, preparedPerSession } from '@app/service'
import { and, desc, eq, isNull, sql } from 'drizzle-orm'
import { subscriptions } from '../db/schema.js'
import { type After, belowCursor } from './keyset.js'

export type SubscriptionRow = typeof subscriptions.$inferSelect
export type NewSubscription = Pick<typeof subscriptions.$inferInsert, 'category' | 'priceMinor' | 'currency'>

export async function insertSubscription(db: Db, values: NewSubscription): Promise<SubscriptionRow> {
  const [row] = await db.insert(subscriptions).values(values).returning()
  return row!
}

// Plan lookups are on every user-subscription write and on GET /billing/subscriptions/{id}:
// written once, prepared once per session.
const byId = preparedPerSession((db: Db) =>
  db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, sql.placeholder('id')))
    .prepare('billing_find_subscription'),
)

export async function findSubscription(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  const [row] = await byId(db).execute({ id })
  return row
}

/**
 * The plan a new subscription is for, locked FOR SHARE until the subscribing
 * transaction ends: a concurrent retirement waits for it (and a subscription that
 * starts after a retirement committed reads retired_at), so no subscription to a
 * plan is created after its retirement.
 */
export async function findSubscriptionToSubscribe(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  const [row] = await byIdForShare(db).execute({ id })
  return row
}

// In every subscribing transaction: prepared once per connection's transaction session.
const byIdForShare = preparedPerSession((db: Db) =>
  db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, sql.placeholder('id')))
    .for('share')
    .prepare('billing_subscription_to_subscribe'),
)

/** Retires the plan; undefined when there is no such plan or it was retired already. */
export async function retireSubscription(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db
    .update(subscriptions)
    .set({ retiredAt: sql`now()` })
    .where(and(eq(subscriptions.id, id), isNull(subscriptions.retiredAt)))
    .returning()
  return row
}

/** Plans still offered (not retired), `limit + 1` rows, for toPage(). */
export async function listSubscriptions(
  db: Db,
  page: { limit: number; after?: After },
): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(subscriptions)
    .where(
      and(
        isNull(subscriptions.retiredAt),
        page.after ? belowCursor(subscriptions.createdAt, subscriptions.id, page.after) : undefined,
      ),
    )
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(page.limit + 1)
}
