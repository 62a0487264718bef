// billing's own error codes, beside the kit's shared ones: what its routes throw and
// what its OpenAPI document lists per operation and status.
import { defineErrors } from '@app/service'

export const errors = defineErrors({
  SUBSCRIPTION_NOT_FOUND: { status: 404, description: 'no plan has this id' },
  USER_SUBSCRIPTION_NOT_FOUND: {
    status: 404,
    description: "not one of the caller's subscriptions (another user's or nobody's)",
  },
  UNKNOWN_USER: {
    status: 422,
    description: "auth has no such user: the token's account was deleted or disabled; nothing was written",
  },
  UNKNOWN_SUBSCRIPTION: { status: 422, description: 'body.subscriptionId is not the id of a plan' },
  PLAN_RETIRED: {
    status: 409,
    description: 'the plan was retired: it takes no new subscribers (existing subscriptions go on)',
  },
  ALREADY_SUBSCRIBED: {
    status: 409,
    description: 'the caller already has an active subscription to this plan: cancel it first',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    description: 'this Idempotency-Key was used for a different request: use a new key per request',
  },
  IDEMPOTENCY_KEY_BUSY: {
    status: 409,
    description: 'a request with this Idempotency-Key is still being processed: retry shortly',
  },
})
