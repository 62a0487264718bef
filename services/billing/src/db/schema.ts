// The billing schema's tables, all in pgSchema('billing'). No foreign key points
// into auth: user ids are checked against the auth service over HTTP when written,
// so each service migrates and rolls back on its own (see README, "Why no foreign
// key into auth"). `updated_at` is maintained by a trigger (migration
// 0001_updated_at_trigger), so every UPDATE sets it, whoever runs it.
import { sql } from 'drizzle-orm'
import {
  bigint,
  char,
  check,
  index,
  jsonb,
  pgSchema,
  primaryKey,
  smallint,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core'

export const billing = pgSchema('billing')

/** Largest accepted price in minor units: far below 2^53, so it stays exact as a JS number. */
export const MAX_PRICE_MINOR = 1_000_000_000_000

export const USER_SUBSCRIPTION_STATUSES = ['active', 'cancelled'] as const

export const userSubscriptionStatus = billing.enum('user_subscription_status', USER_SUBSCRIPTION_STATUSES)

// Millisecond precision, so a timestamp survives the round trip through a JS Date
// (keyset pagination cursors depend on it).
const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3, mode: 'date' })
    .notNull()
    .defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3, mode: 'date' })
    .notNull()
    .defaultNow(),
}

/** The plans. */
export const subscriptions = billing.table(
  'subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    category: varchar('category', { length: 64 }).notNull(),
    priceMinor: bigint('price_minor', { mode: 'number' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    /**
     * When an admin retired the plan: no longer listed nor open to new subscribers;
     * its existing subscriptions go on. Null while the plan is offered.
     */
    retiredAt: timestamp('retired_at', { withTimezone: true, precision: 3, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    index('subscriptions_created_at_id_idx').on(table.createdAt, table.id),
    check(
      'subscriptions_price_minor_range',
      sql`${table.priceMinor} BETWEEN 0 AND ${sql.raw(String(MAX_PRICE_MINOR))}`,
    ),
    check('subscriptions_currency_iso4217', sql`${table.currency} ~ '^[A-Z]{3}$'`),
  ],
)

/** Which user holds which plan. `user_id` is auth's user id, checked over HTTP (no FK). */
export const userSubscriptions = billing.table(
  'user_subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').notNull(),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => subscriptions.id),
    status: userSubscriptionStatus('status').notNull().default('active'),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true, precision: 3, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    // A user's list, newest first, in keyset order.
    index('user_subscriptions_user_id_created_at_id_idx').on(table.userId, table.createdAt, table.id),
    index('user_subscriptions_subscription_id_idx').on(table.subscriptionId),
    // At most one active subscription per user and plan; cancelled ones are history.
    uniqueIndex('user_subscriptions_one_active_per_plan')
      .on(table.userId, table.subscriptionId)
      .where(sql`${table.status} = 'active'`),
    check(
      'user_subscriptions_cancelled_at_matches_status',
      sql`(${table.status} = 'cancelled') = (${table.cancelledAt} IS NOT NULL)`,
    ),
  ],
)

/**
 * Idempotency-Key records: one per (user, key). The row is inserted before the
 * write, in the write's transaction, so concurrent retries wait on its unique key
 * and then replay the stored response; see src/idempotency/.
 */
export const idempotencyKeys = billing.table(
  'idempotency_keys',
  {
    userId: uuid('user_id').notNull(),
    key: varchar('key', { length: 255 }).notNull(),
    /** sha256 of method, path and canonical JSON body: the same key with another request is refused. */
    requestHash: char('request_hash', { length: 64 }).notNull(),
    /** Null only inside the transaction that claims the key; committed rows always hold the response. */
    statusCode: smallint('status_code'),
    responseBody: jsonb('response_body'),
    createdAt: timestamps.createdAt,
  },
  (table) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [table.userId, table.key] }),
    // The retention sweep deletes by age.
    index('idempotency_keys_created_at_idx').on(table.createdAt),
  ],
)
