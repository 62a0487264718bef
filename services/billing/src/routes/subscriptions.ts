// The plans. Anyone may read them (a price list is public and holds nothing about
// users); creating one needs a bearer token from auth.
import { callerOf, decodeCursor, described, IdParams, Page, PageQuery, toPage } from '@app/service'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AuthUsersClient } from '../auth/users-client.js'
import { errors } from '../errors.js'
import { requestFingerprint } from '../idempotency/fingerprint.js'
import { runIdempotent } from '../idempotency/run-idempotent.js'
import {
  insertSubscription,
  listSubscriptions,
  prepareFindSubscription,
} from '../repositories/subscriptions-repository.js'
import { checkCategory } from '../schemas/category-rules.js'
import { IdempotencyHeaders } from '../schemas/idempotency-headers.js'
import { CreateSubscriptionBody, Subscription } from '../schemas/subscriptions.js'
import { toSubscription } from './dto.js'
import { sendOutcome } from './reply.js'

export interface RouteOptions {
  idempotencyTtlSeconds: number
  /** Asks auth whether a user exists (before a subscription is written). */
  authUsers: AuthUsersClient
}

export const subscriptionRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, options) => {
  const findSubscription = prepareFindSubscription(app.db)

  app.post(
    '/subscriptions',
    {
      onRequest: app.authenticate,
      schema: {
        operationId: 'createPlan',
        tags: ['subscriptions'],
        summary: 'Create a plan',
        description:
          'Any authenticated user may create a plan. The price is an integer number of minor units (cents) with an ISO 4217 currency. Send an `Idempotency-Key` to make retries safe.',
        headers: IdempotencyHeaders,
        body: CreateSubscriptionBody,
        response: {
          201: described(Subscription, 'The new plan'),
          ...errors.responses('IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_BUSY'),
        },
      },
    },
    async (request, reply) => {
      // The category rules no portable `pattern` can express; before anything is written.
      checkCategory(request.body.category)
      const caller = callerOf(request)
      const outcome = await runIdempotent({
        db: app.db,
        userId: caller.userId,
        key: request.headers['idempotency-key'],
        fingerprint: requestFingerprint(request.method, request.url, request.body),
        ttlSeconds: options.idempotencyTtlSeconds,
        write: async (tx) => ({
          statusCode: 201,
          body: toSubscription(await insertSubscription(tx, request.body)),
        }),
      })
      return sendOutcome(reply, outcome)
    },
  )

  app.get(
    '/subscriptions',
    {
      schema: {
        operationId: 'listPlans',
        tags: ['subscriptions'],
        summary: 'List plans, newest first',
        description: 'Public. Paginated: pass `nextCursor` as `cursor` for the next page.',
        querystring: PageQuery,
        response: { 200: described(Page(Subscription), 'One page of plans') },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const page = toPage(await listSubscriptions(app.db, { limit, after: decodeCursor(cursor) }), limit)
      return { items: page.items.map(toSubscription), nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/subscriptions/:id',
    {
      schema: {
        operationId: 'getPlan',
        tags: ['subscriptions'],
        summary: 'Get a plan',
        description: 'Public. 404 SUBSCRIPTION_NOT_FOUND for an id with no plan.',
        params: IdParams("The plan's id"),
        response: { 200: described(Subscription, 'The plan'), ...errors.responses('SUBSCRIPTION_NOT_FOUND') },
      },
    },
    async (request) => {
      const row = await findSubscription(request.params.id)
      if (!row) {
        throw errors.error('SUBSCRIPTION_NOT_FOUND', `no subscription plan with id ${request.params.id}`)
      }
      return toSubscription(row)
    },
  )
}
