// The plans (billing.subscriptions).

import type { Db } from '@app/service'
import { desc, eq, sql } from 'drizzle-orm'
import { subscriptions } from '../db/schema.js'
import { type After, belowCursor } from './keyset.js'

export type SubscriptionRow = typeof subscriptions.$inferSelect
export type NewSubscription = Pick<typeof subscriptions.$inferInsert, 'category' | 'priceMinor' | 'currency'>

export async function insertSubscription(db: Db, values: NewSubscription): Promise<SubscriptionRow> {
  const [row] = await db.insert(subscriptions).values(values).returning()
  return row!
}

/** Prepared once per database: plan lookups are on every user-subscription write and read. */
export function prepareFindSubscription(db: Db) {
  const statement = db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, sql.placeholder('id')))
    .prepare('billing_find_subscription')
  return async (id: string): Promise<SubscriptionRow | undefined> => (await statement.execute({ id }))[0]
}

export async function findSubscription(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.id, id))
  return row
}

/** `limit + 1` rows, for toPage(). */
export async function listSubscriptions(
  db: Db,
  page: { limit: number; after?: After },
): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(subscriptions)
    .where(page.after ? belowCursor(subscriptions.createdAt, subscriptions.id, page.after) : undefined)
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(page.limit + 1)
}
