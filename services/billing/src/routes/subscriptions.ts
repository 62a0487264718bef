// The plans. Anyone may read them (a price list is public and holds nothing about
// users); creating one needs a bearer token from auth.
import { ApiError, errorResponses, Page, PageQuery, toPage } from '@app/service'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { requestFingerprint } from '../idempotency/fingerprint.js'
import { runIdempotent } from '../idempotency/run-idempotent.js'
import { callerOf } from '../plugins/authenticate.js'
import {
  insertSubscription,
  listSubscriptions,
  prepareFindSubscription,
} from '../repositories/subscriptions-repository.js'
import { checkCategory } from '../schemas/category-rules.js'
import { bearerSecurity, described, IdempotencyHeaders, IdParams } from '../schemas/common.js'
import { CreateSubscriptionBody, Subscription } from '../schemas/subscriptions.js'
import { afterCursor, cursorOf } from './cursor.js'
import { toSubscription } from './dto.js'
import { sendOutcome } from './reply.js'

export interface RouteOptions {
  idempotencyTtlSeconds: number
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
        security: bearerSecurity,
        headers: IdempotencyHeaders,
        body: CreateSubscriptionBody,
        response: {
          201: described(Subscription, 'The new plan'),
          ...errorResponses(400, 401, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      // The category rules no portable `pattern` can express; before anything is written.
      checkCategory(request.body.category)
      const caller = callerOf(request)
      const outcome = await runIdempotent({
        db: app.db,
        userId: caller.id,
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
        response: { 200: described(Page(Subscription), 'One page of plans'), ...errorResponses(422, 503) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const rows = await listSubscriptions(app.db, { limit, after: afterCursor(cursor) })
      const page = toPage(rows, limit, cursorOf)
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
        params: IdParams,
        response: { 200: described(Subscription, 'The plan'), ...errorResponses(404, 422, 503) },
      },
    },
    async (request) => {
      const row = await findSubscription(request.params.id)
      if (!row) {
        throw new ApiError(404, 'SUBSCRIPTION_NOT_FOUND', `no subscription plan with id ${request.params.id}`)
      }
      return toSubscription(row)
    },
  )
}
