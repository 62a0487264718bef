// buildApp(config) builds the __name__ service's Fastify instance and never listens:
// tests inject into exactly what production serves.
import { authSecuritySchemes, createServiceApp, registerAuthTokens } from '@app/service'
import type { FastifyServerOptions } from 'fastify'
import type { __Name__Config } from './config.js'
import { migrations } from './db/migrations.js'
import { itemRoutes } from './routes/items.js'

export async function buildApp(
  config: __Name__Config,
  options: { logger?: FastifyServerOptions['logger'] } = {},
) {
  const app = await createServiceApp({
    name: '__name__',
    config,
    migrations,
    logger: options.logger,
    docs: {
      title: '__name__',
      version: '1.0.0',
      description:
        "The __name__ service. Writes need a bearer token from the auth service: click **Authorize** and log in with your auth username and password (the form posts to auth's `POST /auth/token`), or paste an `access_token` from auth under bearerAuth.",
      tags: [
        { name: 'items', description: 'The example resource (public to read)' },
        { name: 'health', description: 'Liveness and readiness probes' },
      ],
      securitySchemes: authSecuritySchemes(`${config.auth.publicUrl}/auth/token`),
    },
  })
  // auth's tokens, verified locally against the keys auth publishes.
  await registerAuthTokens(app, config.auth)
  await app.register(itemRoutes, { prefix: '/__name__' })
  return app
}

export type __Name__App = Awaited<ReturnType<typeof buildApp>>
