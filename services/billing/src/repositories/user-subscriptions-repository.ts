// Users' subscriptions (billing.user_subscriptions). Every read and write is scoped
// to one user id: a row of another user is indistinguishable from a missing one.

import { type Db, preparedPerSession } from '@app/service'
import { and, desc, eq, sql } from 'drizzle-orm'
import { userSubscriptions } from '../db/schema.js'
import { type After, belowCursor } from './keyset.js'

export type UserSubscriptionRow = typeof userSubscriptions.$inferSelect

// On every subscription write: prepared once per session.
const insertActive = preparedPerSession((db: Db) =>
  db
    .insert(userSubscriptions)
    .values({ userId: sql.placeholder('userId'), subscriptionId: sql.placeholder('subscriptionId') })
    .onConflictDoNothing({
      target: [userSubscriptions.userId, userSubscriptions.subscriptionId],
      where: sql`${sql.identifier(userSubscriptions.status.name)} = 'active'`,
    })
    .returning()
    .prepare('billing_insert_user_subscription'),
)

/** The new row, or undefined when the user already has an active subscription to this plan. */
export async function insertUserSubscription(
  db: Db,
  values: { userId: string; subscriptionId: string },
): Promise<UserSubscriptionRow | undefined> {
  const [row] = await insertActive(db).execute(values)
  return row
}

export async function findActiveUserSubscription(
  db: Db,
  userId: string,
  subscriptionId: string,
): Promise<UserSubscriptionRow | undefined> {
  const [row] = await db
    .select()
    .from(userSubscriptions)
    .where(
      and(
        eq(userSubscriptions.userId, userId),
        eq(userSubscriptions.subscriptionId, subscriptionId),
        eq(userSubscriptions.status, 'active'),
      ),
    )
  return row
}

// GET /billing/user-subscriptions/{id} is the hot read (benchmarked), and the cancel
// transaction reads the same row: written once, prepared once per session.
const byIdForUser = preparedPerSession((db: Db) =>
  db
    .select()
    .from(userSubscriptions)
    .where(
      and(
        eq(userSubscriptions.id, sql.placeholder('id')),
        eq(userSubscriptions.userId, sql.placeholder('userId')),
      ),
    )
    .prepare('billing_find_user_subscription'),
)

export async function findUserSubscription(
  db: Db,
  id: string,
  userId: string,
): Promise<UserSubscriptionRow | undefined> {
  const [row] = await byIdForUser(db).execute({ id, userId })
  return row
}

/** `limit + 1` of the user's rows, newest first, for toPage(). */
export async function listUserSubscriptions(
  db: Db,
  userId: string,
  page: { limit: number; after?: After },
): Promise<UserSubscriptionRow[]> {
  return db
    .select()
    .from(userSubscriptions)
    .where(
      and(
        eq(userSubscriptions.userId, userId),
        page.after ? belowCursor(userSubscriptions.createdAt, userSubscriptions.id, page.after) : undefined,
      ),
    )
    .orderBy(desc(userSubscriptions.createdAt), desc(userSubscriptions.id))
    .limit(page.limit + 1)
}

/** Cancels an active subscription; undefined when there is no active one with this id for this user. */
export async function cancelUserSubscription(
  db: Db,
  id: string,
  userId: string,
): Promise<UserSubscriptionRow | undefined> {
  const [row] = await db
    .update(userSubscriptions)
    .set({ status: 'cancelled', cancelledAt: sql`now()` })
    .where(
      and(
        eq(userSubscriptions.id, id),
        eq(userSubscriptions.userId, userId),
        eq(userSubscriptions.status, 'active'),
      ),
    )
    .returning()
  return row
}
