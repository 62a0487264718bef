// buildApp(config) builds the auth service's Fastify instance and never listens:
// tests inject into exactly what production serves.
import {
  authSecuritySchemes,
  bearerAuthPlugin,
  createServiceApp,
  deleteInBatches,
  registerPeriodicTask,
} from '@app/service'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { Counter, Gauge } from 'prom-client'
import type { AuthConfig } from './config.js'
import { createLoginFailuresRepository } from './db/login-failures-repository.js'
import { createLoginRateLimitsRepository } from './db/login-rate-limits-repository.js'
import { migrations } from './db/migrations.js'
import { createUsersRepository } from './db/users-repository.js'
import { createPasswords, type Passwords } from './passwords.js'
import { tokensPlugin } from './plugins/tokens.js'
import { postgresRateLimitStore } from './postgres-rate-limit-store.js'
import { jwksRoutes } from './routes/jwks.js'
import { metadataRoutes } from './routes/metadata.js'
import { tokenRoutes } from './routes/token.js'
import { userRoutes } from './routes/users.js'
import { SCOPES } from './tokens/scopes.js'

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
      // It offers every scope auth grants (billing's too: one login serves every service).
      securitySchemes: authSecuritySchemes('/auth/token', SCOPES),
    },
  })
  await app.register(tokensPlugin, { jwt: config.jwt })
  await app.register(bearerAuthPlugin, {
    keys: app.tokens.keys,
    issuer: config.jwt.issuer,
    // auth's own routes accept only tokens issued for auth, like any service for itself.
    audience: 'auth',
    loginHint: 'POST /auth/token',
  })

  const users = createUsersRepository(app.db)
  // Every argon2 hash and verification shares one capped queue (503 BUSY beyond it).
  const passwords = createPasswords(config.argon2)
  observePasswordWork(app, passwords)
  // The dummy hash is ready before the first login asks for it.
  passwords
    .warmUp()
    .catch((error) => app.log.error({ err: error }, 'auth: hashing the dummy password failed'))

  // The login and registration limits are counted in the database (keys per route),
  // so every replica enforces one limit.
  const loginRateLimits = createLoginRateLimitsRepository(app.db)
  const rateLimitStore = postgresRateLimitStore(loginRateLimits)
  // Per-username backoff after consecutive failed logins, shared by every replica too.
  const loginFailures = createLoginFailuresRepository(app.db, config.loginBackoff)
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
  // Failures are forgotten after AUTH_LOGIN_FAILURES_RESET_SECONDS anyway (the next
  // attempt restarts the count); the sweep bounds the table to the usernames tried lately.
  registerPeriodicTask(app, {
    name: 'login failures sweep',
    intervalSeconds: config.tokenRateLimit.sweepIntervalSeconds,
    async run() {
      const deleted = await deleteInBatches(() => loginFailures.deleteForgotten())
      if (deleted > 0) app.log.info({ deleted }, 'deleted forgotten login failures')
    },
  })

  await app.register(userRoutes, {
    prefix: '/auth',
    users,
    passwords,
    rateLimit: config.registerRateLimit,
    rateLimitStore,
  })
  await app.register(tokenRoutes, {
    prefix: '/auth',
    users,
    passwords,
    loginFailures,
    rateLimit: config.tokenRateLimit,
    rateLimitStore,
    corsOrigins: config.tokenCorsOrigins,
  })
  await app.register(jwksRoutes, { prefix: '/auth' })
  // At the root: RFC 8414 puts it under the issuer's origin, which has no path.
  await app.register(metadataRoutes, { issuer: config.jwt.issuer })
  return app
}

export type AuthApp = Awaited<ReturnType<typeof buildApp>>

/** The argon2 queue on /metrics: how full it is, what it ran, what it refused. */
function observePasswordWork(app: FastifyInstance, passwords: Passwords) {
  const registry = app.metrics.registry
  if (!registry) return
  new Gauge({
    name: 'auth_argon2_active',
    help: 'argon2 hashes and verifications running now (at most AUTH_ARGON2_CONCURRENCY)',
    registers: [registry],
    collect() {
      this.set(passwords.counts().active)
    },
  })
  new Gauge({
    name: 'auth_argon2_waiting',
    help: 'argon2 work waiting for a slot, logins whose attempt is being counted included (with the active ones, at most AUTH_ARGON2_CONCURRENCY + AUTH_ARGON2_MAX_WAITING)',
    registers: [registry],
    collect() {
      this.set(passwords.counts().waiting)
    },
  })
  new Counter({
    name: 'auth_argon2_started_total',
    help: 'argon2 work admitted to the queue, by operation: hash (registration) or verify (login)',
    labelNames: ['operation'],
    registers: [registry],
    collect() {
      const { started } = passwords.counts()
      this.reset()
      this.inc({ operation: 'hash' }, started.hash)
      this.inc({ operation: 'verify' }, started.verify)
    },
  })
  new Counter({
    name: 'auth_argon2_rejected_total',
    help: 'argon2 work refused because the queue was full (answered 503 BUSY)',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(passwords.counts().rejected)
    },
  })
}
