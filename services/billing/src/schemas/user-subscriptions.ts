// Contracts of users' subscriptions (/billing/user-subscriptions).

import { Nullable, Timestamp, Uuid } from '@app/service'
import { type Static, Type } from 'typebox'

export const CreateUserSubscriptionBody = Type.Object(
  {
    subscriptionId: Uuid({ description: 'The plan to subscribe to (an id from GET /billing/subscriptions)' }),
  },
  {
    additionalProperties: false,
    title: 'CreateUserSubscription',
    description: 'Subscribes the caller (the user of the bearer token) to a plan',
    examples: [{ subscriptionId: '0b8f6d5e-3c1a-4f7e-9d2b-6a4c8e1f2a3b' }],
  },
)
export type CreateUserSubscriptionBody = Static<typeof CreateUserSubscriptionBody>

// The values of billing.user_subscription_status (src/db/schema.ts). Plain
// `enum`/`type` lists rather than anyOf: the response serializer handles these
// directly, while an anyOf makes it run a validator per field on every response.
export const UserSubscriptionStatus = Type.Unsafe<'active' | 'cancelled'>({
  type: 'string',
  enum: ['active', 'cancelled'],
  description: 'active, or cancelled (final)',
})

export const UserSubscription = Type.Object(
  {
    id: Uuid(),
    userId: Uuid({ description: "The user's id in auth" }),
    subscriptionId: Uuid({ description: 'The plan' }),
    status: UserSubscriptionStatus,
    cancelledAt: Nullable(Timestamp, {
      description: 'When it was cancelled; null while active',
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    title: 'UserSubscription',
    examples: [
      {
        id: '7d1e9a2c-5b4f-4c3e-8a1d-2f6b9c0e4d7a',
        userId: '3c9a7e1b-2d4f-4a6c-9e8b-1f0d2c3b4a5e',
        subscriptionId: '0b8f6d5e-3c1a-4f7e-9d2b-6a4c8e1f2a3b',
        status: 'active',
        cancelledAt: null,
        createdAt: '2026-11-22T08:00:00.000Z',
        updatedAt: '2026-11-22T08:00:00.000Z',
      },
    ],
  },
)
export type UserSubscription = Static<typeof UserSubscription>
