// buildApp(config) builds the auth service's Fastify instance and never listens:
// tests inject into exactly what production serves.
import {
  authSecuritySchemes,
  bearerAuthPlugin,
  createServiceApp,
  deleteInBatches,
  registerPeriodicTask,
} from '@app/service'
import type { FastifyServerOptions } from 'fastify'
import type { AuthConfig } from './config.js'
import { createLoginRateLimitsRepository } from './db/login-rate-limits-repository.js'
import { migrations } from './db/migrations.js'
import { createUsersRepository } from './db/users-repository.js'
import { createPasswordVerifier } from './passwords.js'
import { tokensPlugin } from './plugins/tokens.js'
import { postgresRateLimitStore } from './postgres-rate-limit-store.js'
import { jwksRoutes } from './routes/jwks.js'
import { tokenRoutes } from './routes/token.js'
import { userRoutes } from './routes/users.js'

export async function buildApp(
  config: AuthConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
) {
  const app = await createServiceApp({
    name: 'auth',
    config,
    migrations,
    logger: options.logger,
    docs: {
      title: 'auth',
      version: '1.0.0',
      description:
        'Users, login (OAuth2 password flow) and the public keys that verify its tokens. Click **Authorize**, log in with a registered username and password, and the routes that need a token get one.',
      tags: [
        { name: 'users', description: 'Registration and user records' },
        { name: 'login', description: 'Access tokens and the keys that verify them' },
        { name: 'health', description: 'Liveness and readiness probes' },
      ],
      // As FastAPI's OAuth2PasswordBearer: Swagger UI's Authorize posts the form here.
      securitySchemes: authSecuritySchemes('/auth/token'),
    },
  })
  await app.register(tokensPlugin, { jwt: config.jwt })
  await app.register(bearerAuthPlugin, {
    keys: app.tokens.keys,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    loginHint: 'POST /auth/token',
  })

  const users = createUsersRepository(app.db)
  const passwords = createPasswordVerifier()
  // The dummy hash is ready before the first login asks for it.
  passwords
    .warmUp()
    .catch((error) => app.log.error({ err: error }, 'auth: hashing the dummy password failed'))

  // The login limit is counted in the database, so every replica enforces one limit.
  const loginRateLimits = createLoginRateLimitsRepository(app.db)
  // Ended windows are deleted now and then: a window ended is restarted by its next
  // hit anyway, so the sweep only bounds the table (one row per address in a window).
  registerPeriodicTask(app, {
    name: 'login rate limit sweep',
    intervalSeconds: config.tokenRateLimit.sweepIntervalSeconds,
    async run() {
      const deleted = await deleteInBatches(() => loginRateLimits.deleteExpired())
      if (deleted > 0) app.log.info({ deleted }, 'deleted ended login rate limit windows')
    },
  })

  await app.register(userRoutes, { prefix: '/auth', users })
  await app.register(tokenRoutes, {
    prefix: '/auth',
    users,
    passwords,
    rateLimit: config.tokenRateLimit,
    rateLimitStore: postgresRateLimitStore(loginRateLimits),
    corsOrigins: config.tokenCorsOrigins,
  })
  await app.register(jwksRoutes, { prefix: '/auth' })
  return app
}

export type AuthApp = Awaited<ReturnType<typeof buildApp>>
