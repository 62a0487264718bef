// Users' subscriptions. Every route needs a bearer token and sees only the
// caller's own rows: another user's id answers 404, exactly like an unknown one.
import { callerOf, decodeCursor, described, IdParams, Page, PageQuery, toPage } from '@app/service'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../errors.js'
import { findSubscriptionToSubscribe } from '../repositories/subscriptions-repository.js'
import {
  cancelUserSubscription,
  findActiveUserSubscription,
  findUserSubscription,
  insertUserSubscription,
  listUserSubscriptions,
} from '../repositories/user-subscriptions-repository.js'
import { IdempotencyHeaders } from '../schemas/idempotency-headers.js'
import { CreateUserSubscriptionBody, UserSubscription } from '../schemas/user-subscriptions.js'
import { toUserSubscription } from './dto.js'
import { answerKeyedWrite } from './reply.js'
import type { RouteOptions } from './subscriptions.js'

const notFound = (id: string) =>
  errors.error('USER_SUBSCRIPTION_NOT_FOUND', `you have no subscription with id ${id}`)
const SubscriptionIdParams = IdParams("The subscription's id")

export const userSubscriptionRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, options) => {
  // Every route here is the caller's own data: each runs app.authenticate.
  const onRequest = app.authenticate

  app.post(
    '/user-subscriptions',
    {
      onRequest,
      schema: {
        operationId: 'createUserSubscription',
        tags: ['user-subscriptions'],
        summary: 'Subscribe the caller to a plan',
        description:
          'The user is the one of the bearer token. Before anything is written, auth is asked whether that user exists (GET /auth/users/{id}): an unknown user is 422 UNKNOWN_USER, an unreachable auth 503 AUTH_UNAVAILABLE. One active subscription per user and plan (409 ALREADY_SUBSCRIBED). A retired plan takes no new subscribers (409 PLAN_RETIRED). Send an `Idempotency-Key` to make retries safe.',
        headers: IdempotencyHeaders,
        body: CreateUserSubscriptionBody,
        response: {
          201: described(UserSubscription, 'The new subscription, active'),
          ...errors.responses(
            'UNKNOWN_USER',
            'UNKNOWN_SUBSCRIPTION',
            'PLAN_RETIRED',
            'ALREADY_SUBSCRIBED',
            'AUTH_UNAVAILABLE',
            'IDEMPOTENCY_KEY_REUSED',
            'IDEMPOTENCY_KEY_BUSY',
          ),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { subscriptionId } = request.body
      return answerKeyedWrite(request, reply, {
        db: app.db,
        ttlSeconds: options.idempotencyTtlSeconds,
        precheck: async () => {
          if (!(await options.authUsers.exists(caller.userId, caller.token))) {
            throw errors.error(
              'UNKNOWN_USER',
              `auth has no user ${caller.userId}: the account of this token was deleted or disabled; nothing was written`,
            )
          }
        },
        write: async (tx) => {
          // Locked FOR SHARE: a retirement racing this subscription waits for it.
          const plan = await findSubscriptionToSubscribe(tx, subscriptionId)
          if (!plan) {
            throw errors.error(
              'UNKNOWN_SUBSCRIPTION',
              `body.subscriptionId: no subscription plan with id ${subscriptionId}`,
              [{ in: 'body', field: 'subscriptionId', message: 'is not the id of a plan' }],
            )
          }
          if (plan.retiredAt) {
            throw errors.error(
              'PLAN_RETIRED',
              `body.subscriptionId: plan ${subscriptionId} was retired on ${plan.retiredAt.toISOString()} and takes no new subscribers`,
              [{ in: 'body', field: 'subscriptionId', message: 'is a retired plan' }],
            )
          }
          const row = await insertUserSubscription(tx, { userId: caller.userId, subscriptionId })
          if (!row) {
            const active = await findActiveUserSubscription(tx, caller.userId, subscriptionId)
            throw errors.error(
              'ALREADY_SUBSCRIBED',
              `you already have an active subscription to plan ${subscriptionId}; cancel it first`,
              { userSubscriptionId: active?.id },
            )
          }
          return { statusCode: 201, body: toUserSubscription(row) }
        },
      })
    },
  )

  app.get(
    '/user-subscriptions',
    {
      onRequest,
      schema: {
        operationId: 'listUserSubscriptions',
        tags: ['user-subscriptions'],
        summary: "List the caller's subscriptions, newest first",
        description: 'Paginated: pass `nextCursor` as `cursor` for the next page.',
        querystring: PageQuery,
        response: {
          200: described(Page(UserSubscription), "One page of the caller's subscriptions"),
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const rows = await listUserSubscriptions(app.db, callerOf(request).userId, {
        limit,
        after: decodeCursor(cursor),
      })
      const page = toPage(rows, limit)
      return { items: page.items.map(toUserSubscription), nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/user-subscriptions/:id',
    {
      onRequest,
      schema: {
        operationId: 'getUserSubscription',
        tags: ['user-subscriptions'],
        summary: "Get one of the caller's subscriptions",
        description:
          "404 USER_SUBSCRIPTION_NOT_FOUND for an id that is not one of the caller's subscriptions, whether it belongs to another user or to nobody.",
        params: SubscriptionIdParams,
        response: {
          200: described(UserSubscription, 'The subscription'),
          ...errors.responses('USER_SUBSCRIPTION_NOT_FOUND'),
        },
      },
    },
    async (request) => {
      const row = await findUserSubscription(app.db, request.params.id, callerOf(request).userId)
      if (!row) throw notFound(request.params.id)
      return toUserSubscription(row)
    },
  )

  app.post(
    '/user-subscriptions/:id/cancel',
    {
      onRequest,
      schema: {
        operationId: 'cancelUserSubscription',
        tags: ['user-subscriptions'],
        summary: "Cancel one of the caller's subscriptions",
        description:
          'Cancelling is final and safe to repeat: cancelling a cancelled subscription answers 200 with it unchanged (`cancelledAt` keeps the first time). Accepts an `Idempotency-Key` like every POST.',
        headers: IdempotencyHeaders,
        params: SubscriptionIdParams,
        response: {
          200: described(UserSubscription, 'The subscription, cancelled'),
          ...errors.responses(
            'USER_SUBSCRIPTION_NOT_FOUND',
            'IDEMPOTENCY_KEY_REUSED',
            'IDEMPOTENCY_KEY_BUSY',
          ),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { id } = request.params
      return answerKeyedWrite(request, reply, {
        db: app.db,
        ttlSeconds: options.idempotencyTtlSeconds,
        write: async (tx) => {
          const row =
            (await cancelUserSubscription(tx, id, caller.userId)) ??
            (await findUserSubscription(tx, id, caller.userId))
          if (!row) throw notFound(id)
          return { statusCode: 200, body: toUserSubscription(row) }
        },
      })
    },
  )
}
