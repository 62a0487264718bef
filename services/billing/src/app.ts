// buildApp(config) builds the billing service's Fastify instance and never listens:
// tests inject into exactly what production serves.
import {
  authSecuritySchemes,
  createServiceApp,
  deleteInBatches,
  registerAuthTokens,
  registerPeriodicTask,
} from '@app/service'
import type { FastifyServerOptions } from 'fastify'
import { createAuthUsersClient } from './auth/users-client.js'
import type { BillingConfig } from './config.js'
import { migrations } from './db/migrations.js'
import { deleteExpiredKeys } from './idempotency/idempotency-repository.js'
import { subscriptionRoutes } from './routes/subscriptions.js'
import { userSubscriptionRoutes } from './routes/user-subscriptions.js'
import { BILLING_SCOPES } from './scopes.js'

export async function buildApp(
  config: BillingConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
) {
  const app = await createServiceApp({
    name: 'billing',
    config,
    migrations,
    logger: options.logger,
    docs: {
      title: 'billing',
      version: '1.0.0',
      description:
        "Subscription plans and the users subscribed to them. Your subscriptions need a bearer token from the auth service, and creating or retiring plans one with the `billing:plans:write` scope (admins): click **Authorize** and log in with your auth username and password (the form posts to auth's `POST /auth/token`), or paste an `access_token` from auth under bearerAuth.",
      tags: [
        { name: 'subscriptions', description: 'Plans: a category and a price (public to read)' },
        { name: 'user-subscriptions', description: "The caller's subscriptions to plans" },
        { name: 'health', description: 'Liveness and readiness probes' },
      ],
      securitySchemes: authSecuritySchemes(`${config.auth.publicUrl}/auth/token`, BILLING_SCOPES),
    },
  })
  // auth's tokens, verified locally against the keys auth publishes.
  await registerAuthTokens(app, config.auth)
  // An expired record is ignored (and its key reusable) before it is deleted: the
  // sweep only bounds the table's size.
  registerPeriodicTask(app, {
    name: 'idempotency key sweep',
    intervalSeconds: config.idempotency.sweepIntervalSeconds,
    async run() {
      const deleted = await deleteInBatches(() => deleteExpiredKeys(app.db, config.idempotency.ttlSeconds))
      if (deleted > 0) app.log.info({ deleted }, 'deleted expired idempotency keys')
    },
  })
  const authUsers = createAuthUsersClient({ authUrl: config.auth.url, timeoutMs: config.auth.timeoutMs })
  app.addHook('onClose', async () => authUsers.close())
  const routeOptions = { idempotencyTtlSeconds: config.idempotency.ttlSeconds, authUsers }
  await app.register(subscriptionRoutes, { prefix: '/billing', ...routeOptions })
  await app.register(userSubscriptionRoutes, { prefix: '/billing', ...routeOptions })
  return app
}

export type BillingApp = Awaited<ReturnType<typeof buildApp>>
