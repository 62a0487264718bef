// The plans. Anyone may read them (a price list is public and holds nothing about
// users); creating and retiring one needs a token from auth with the
// billing:plans:write scope (admins). A retired plan is no longer listed nor open to
// new subscribers; reading it by id still works, and its subscriptions go on.
import { decodeCursor, described, IdParams, Page, PageQuery, requireScope, toPage } from '@app/service'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AuthUsersClient } from '../auth/users-client.js'
import { errors } from '../errors.js'
import {
  findSubscription,
  insertSubscription,
  listSubscriptions,
  retireSubscription,
} from '../repositories/subscriptions-repository.js'
import { checkedPlan } from '../schemas/category-rules.js'
import { IdempotencyHeaders } from '../schemas/idempotency-headers.js'
import { CreateSubscriptionBody, Subscription } from '../schemas/subscriptions.js'
import { PLANS_WRITE } from '../scopes.js'
import { toSubscription } from './dto.js'
import { answerKeyedWrite } from './reply.js'

export interface RouteOptions {
  idempotencyTtlSeconds: number
  /** Asks auth whether a user exists (before a subscription is written). */
  authUsers: AuthUsersClient
}

export const subscriptionRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, options) => {
  app.post(
    '/subscriptions',
    {
      onRequest: [app.authenticate, requireScope(PLANS_WRITE)],
      schema: {
        operationId: 'createPlan',
        tags: ['subscriptions'],
        summary: 'Create a plan (admins: scope billing:plans:write)',
        description:
          'Needs a token with the `billing:plans:write` scope (admins); any other is 403 INSUFFICIENT_SCOPE. The price is an integer number of minor units (cents) with an ISO 4217 currency. Send an `Idempotency-Key` to make retries safe.',
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
      // Also: the currency is one ISO 4217 lists, and the category is stored in NFC.
      const body = checkedPlan(request.body)
      return answerKeyedWrite(request, reply, {
        db: app.db,
        ttlSeconds: options.idempotencyTtlSeconds,
        body,
        write: async (tx) => ({
          statusCode: 201,
          body: toSubscription(await insertSubscription(tx, body)),
        }),
      })
    },
  )

  app.get(
    '/subscriptions',
    {
      schema: {
        operationId: 'listPlans',
        tags: ['subscriptions'],
        summary: 'List plans, newest first',
        description:
          'Public. The plans on offer: retired ones are not listed. Paginated: pass `nextCursor` as `cursor` for the next page.',
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
        description:
          'Public. Retired plans too (with their `retiredAt`). 404 SUBSCRIPTION_NOT_FOUND for an id with no plan.',
        params: IdParams("The plan's id"),
        response: { 200: described(Subscription, 'The plan'), ...errors.responses('SUBSCRIPTION_NOT_FOUND') },
      },
    },
    async (request) => {
      const row = await findSubscription(app.db, request.params.id)
      if (!row) {
        throw errors.error('SUBSCRIPTION_NOT_FOUND', `no subscription plan with id ${request.params.id}`)
      }
      return toSubscription(row)
    },
  )
  app.post(
    '/subscriptions/:id/retire',
    {
      onRequest: [app.authenticate, requireScope(PLANS_WRITE)],
      schema: {
        operationId: 'retirePlan',
        tags: ['subscriptions'],
        summary: 'Retire a plan (admins: scope billing:plans:write)',
        description:
          'The plan is no longer listed and takes no new subscribers (409 PLAN_RETIRED); existing subscriptions to it go on (read, list, cancel), and GET by id still returns it with its `retiredAt`. Final and safe to repeat: retiring a retired plan answers 200 with it unchanged (`retiredAt` keeps the first time). Needs the `billing:plans:write` scope (admins). Accepts an `Idempotency-Key` like every POST.',
        headers: IdempotencyHeaders,
        params: IdParams("The plan's id"),
        response: {
          200: described(Subscription, 'The plan, retired'),
          ...errors.responses('SUBSCRIPTION_NOT_FOUND', 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_BUSY'),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      return answerKeyedWrite(request, reply, {
        db: app.db,
        ttlSeconds: options.idempotencyTtlSeconds,
        write: async (tx) => {
          const row = (await retireSubscription(tx, id)) ?? (await findSubscription(tx, id))
          if (!row) throw errors.error('SUBSCRIPTION_NOT_FOUND', `no subscription plan with id ${id}`)
          return { statusCode: 200, body: toSubscription(row) }
        },
      })
    },
  )
}
