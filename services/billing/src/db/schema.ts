// The billing schema's tables, all in pgSchema('billing'). No foreign key points
// into auth: user ids are checked against the auth service over HTTP when written,
// so each service migrates and rolls back on its own.
import { bigint, char, pgSchema, timestamp, uuid, varchar } from 'drizzle-orm/pg-core'

export const billing = pgSchema('billing')

export const userSubscriptionStatus = billing.enum('user_subscription_status', ['active', 'cancelled'])

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}

export const subscriptions = billing.table('subscriptions', {
  id: uuid('id').primaryKey().defaultRandom(),
  category: varchar('category', { length: 64 }).notNull(),
  priceMinor: bigint('price_minor', { mode: 'number' }).notNull(),
  currency: char('currency', { length: 3 }).notNull(),
  ...timestamps,
})

export const userSubscriptions = billing.table('user_subscriptions', {
  id: uuid('id').primaryKey().defaultRandom(),
  userId: uuid('user_id').notNull(),
  subscriptionId: uuid('subscription_id')
    .notNull()
    .references(() => subscriptions.id),
  status: userSubscriptionStatus('status').notNull().default('active'),
  ...timestamps,
})
