// Rows to API representations: JSON-ready (dates as ISO strings), so the very same
// object can be sent and stored as an idempotent replay.
import type { SubscriptionRow } from '../repositories/subscriptions-repository.js'
import type { UserSubscriptionRow } from '../repositories/user-subscriptions-repository.js'
import type { Subscription } from '../schemas/subscriptions.js'
import type { UserSubscription } from '../schemas/user-subscriptions.js'

export function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    category: row.category,
    priceMinor: row.priceMinor,
    currency: row.currency,
    retiredAt: row.retiredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

export function toUserSubscription(row: UserSubscriptionRow): UserSubscription {
  return {
    id: row.id,
    userId: row.userId,
    subscriptionId: row.subscriptionId,
    status: row.status,
    cancelledAt: row.cancelledAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}
