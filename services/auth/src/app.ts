// buildApp(config) builds the auth service's Fastify instance and never listens:
// tests inject into exactly what production serves.
import { migrationsAppliedCheck } from '@app/migrations'
import { createServiceApp } from '@app/service'
import type { FastifyServerOptions } from 'fastify'
import type { AuthConfig } from './config.js'
import { createLoginRateLimitsRepository } from './db/login-rate-limits-repository.js'
import { migrations } from './db/migrations.js'
import { createUsersRepository } from './db/users-repository.js'
import { createPasswordVerifier } from './passwords.js'
import { authenticatePlugin } from './plugins/authenticate.js'
import { dbPlugin } from './plugins/db.js'
import { loginRateLimitSweeperPlugin } from './plugins/login-rate-limit-sweeper.js'
import { tokensPlugin } from './plugins/tokens.js'
import { postgresRateLimitStore } from './postgres-rate-limit-store.js'
import { jwksRoutes } from './routes/jwks.js'
import { tokenRoutes } from './routes/token.js'
import { userRoutes } from './routes/users.js'

export async function buildApp(
  config: AuthConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
) {
  let migrationsApplied: (() => Promise<boolean>) | undefined
  const app = await createServiceApp({
    name: 'auth',
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    logRequests: config.logRequests,
    trustProxy: config.trustProxy,
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
      securitySchemes: {
        // As FastAPI's OAuth2PasswordBearer: Swagger UI's Authorize posts the form here.
        OAuth2PasswordBearer: {
          type: 'oauth2',
          description: 'Log in with a username and password (POST /auth/token)',
          flows: { password: { tokenUrl: '/auth/token', scopes: {} } },
        },
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'Paste an access token from POST /auth/token',
        },
      },
    },
    readiness: [
      { name: 'database', check: () => app.database.ping() },
      { name: 'migrations', check: () => migrationsApplied!() },
    ],
  })
  await app.register(dbPlugin, {
    url: config.databaseUrl,
    poolMax: config.dbPoolMax,
    preparedStatements: config.dbPreparedStatements,
  })
  migrationsApplied = migrationsAppliedCheck({
    pool: app.database.pool,
    schema: migrations.schema,
    migrationsFolder: migrations.folder,
  })
  await app.register(tokensPlugin, { jwt: config.jwt })
  await app.register(authenticatePlugin)

  const users = createUsersRepository(app.db)
  const passwords = createPasswordVerifier()
  // The dummy hash is ready before the first login asks for it.
  passwords
    .warmUp()
    .catch((error) => app.log.error({ err: error }, 'auth: hashing the dummy password failed'))

  // The login limit is counted in the database, so every replica enforces one limit.
  const loginRateLimits = createLoginRateLimitsRepository(app.db)
  await app.register(loginRateLimitSweeperPlugin, {
    loginRateLimits,
    intervalSeconds: config.tokenRateLimit.sweepIntervalSeconds,
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
