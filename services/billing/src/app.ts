// buildApp(config) builds the billing service's Fastify instance and never listens:
// tests inject into exactly what production serves.
import {
  bearerAuthPlugin,
  createServiceApp,
  deleteInBatches,
  registerPeriodicTask,
  remoteSigningKeys,
} from '@app/service'
import type { FastifyServerOptions } from 'fastify'
import { createAuthUsersClient } from './auth/users-client.js'
import type { BillingConfig } from './config.js'
import { migrations } from './db/migrations.js'
import { deleteExpiredKeys } from './idempotency/idempotency-repository.js'
import { subscriptionRoutes } from './routes/subscriptions.js'
import { userSubscriptionRoutes } from './routes/user-subscriptions.js'

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
        "Subscription plans and the users subscribed to them. Writes and your own subscriptions need a bearer token from the auth service: click **Authorize** and log in with your auth username and password (the form posts to auth's `POST /auth/token`), or paste an `access_token` from auth under bearerAuth.",
      tags: [
        { name: 'subscriptions', description: 'Plans: a category and a price (public to read)' },
        { name: 'user-subscriptions', description: "The caller's subscriptions to plans" },
        { name: 'health', description: 'Liveness and readiness probes' },
      ],
      securitySchemes: {
        // As in auth's docs (FastAPI's OAuth2PasswordBearer), but the form posts to auth
        // itself, across origins: auth answers CORS for billing's docs (AUTH_CORS_ORIGINS).
        OAuth2PasswordBearer: {
          type: 'oauth2',
          description: "Log in with your auth username and password (auth's POST /auth/token)",
          flows: { password: { tokenUrl: `${config.auth.publicUrl}/auth/token`, scopes: {} } },
        },
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'The `access_token` from auth (`POST /auth/token`, form fields username and password), an EdDSA-signed JWT.',
        },
      },
    },
  })
  // auth's tokens, verified locally against the keys auth publishes.
  await app.register(bearerAuthPlugin, {
    keys: remoteSigningKeys({
      url: new URL(`${config.auth.url}/auth/.well-known/jwks.json`),
      timeoutMs: config.auth.timeoutMs,
      cacheMaxAgeMs: config.auth.jwksCacheMaxAgeMs,
      cooldownMs: config.auth.jwksCooldownMs,
    }),
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    clockToleranceSeconds: config.auth.clockToleranceSeconds,
    loginHint: "auth's POST /auth/token",
  })
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
  const routeOptions = {
    idempotencyTtlSeconds: config.idempotency.ttlSeconds,
    authUsers: createAuthUsersClient({ authUrl: config.auth.url, timeoutMs: config.auth.timeoutMs }),
  }
  await app.register(subscriptionRoutes, { prefix: '/billing', ...routeOptions })
  await app.register(userSubscriptionRoutes, { prefix: '/billing', ...routeOptions })
  return app
}

export type BillingApp = Awaited<ReturnType<typeof buildApp>>
