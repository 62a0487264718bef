// POST /auth/token: OAuth2's password grant, FastAPI-style, so Swagger UI's
// Authorize button logs in. Encapsulated: the form parser and the rate limit
// exist only in this plugin, so every other route stays JSON-only and unlimited.
// Attempts are counted in auth.login_rate_limits, so the limit holds across replicas,
// and fail closed: an attempt that cannot be counted is refused before the handler.
//
// An unknown user, a wrong password and a disabled account get the same 401, and
// cost the same argon2 verification (against a dummy hash when there is no user).
//
// CORS, for this route only: billing's Swagger UI (another origin) posts its
// Authorize form here, with X-Requested-With, so the browser sends a preflight first.
import { described } from '@app/service'
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import formbody from '@fastify/formbody'
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { UsersRepository } from '../db/users-repository.js'
import { errors } from '../errors.js'
import type { PasswordVerifier } from '../passwords.js'
import { TokenForm, TokenResponse } from '../schemas/token.js'
import { USERNAME_PATTERN } from '../schemas/users.js'

export interface TokenRoutesOptions {
  users: UsersRepository
  passwords: PasswordVerifier
  rateLimit: { max: number; windowMs: number }
  /** Where attempts are counted: shared by every replica (see postgres-rate-limit-store.ts). */
  rateLimitStore: FastifyRateLimitStoreCtor
  /** Browser origins whose pages may log in here (CORS); ['*'] for any. */
  corsOrigins: readonly string[]
}

const FORM = 'application/x-www-form-urlencoded'
const USERNAME = new RegExp(USERNAME_PATTERN)

export const tokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (app, options) => {
  const { users, passwords } = options
  const tokenPath = `${app.prefix}/token`
  const tokenCors: FastifyCorsOptions = {
    origin: [...options.corsOrigins],
    methods: ['POST'],
    // What Swagger UI's OAuth2 form sends (Authorization: Basic carries its empty client id).
    allowedHeaders: ['content-type', 'x-requested-with', 'authorization'],
    exposedHeaders: ['retry-after'],
    maxAge: 600,
  }
  // Registered first, so its onRequest hook also marks the rate limiter's 429s. Its
  // preflight route is OPTIONS * under this plugin's prefix (/auth/*): the delegator
  // keeps every other path's preflight a 404, as before.
  await app.register(cors, {
    delegator: async (request: FastifyRequest) =>
      request.url.split('?')[0] === tokenPath ? tokenCors : { origin: false },
  })
  await app.register(formbody)
  await app.register(rateLimit, {
    global: false,
    store: options.rateLimitStore,
    // Fail closed: when the store cannot count, its error reaches the error handler
    // before the route's handler runs (503 DB_UNAVAILABLE with Retry-After when the
    // database is unreachable, 500 otherwise): no password checked, no token uncounted.
    skipOnError: false,
    errorResponseBuilder: (_request, context) =>
      errors.error('RATE_LIMITED', `too many login attempts from your address; retry in ${context.after}`, {
        retryAfterSeconds: Math.ceil(context.ttl / 1000),
      }),
  })

  app.post(
    '/token',
    {
      config: { rateLimit: { max: options.rateLimit.max, timeWindow: options.rateLimit.windowMs } },
      // Fastify would accept JSON here too (the app's parser); the contract is a form.
      preParsing: async (request) => {
        const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
        if (type !== FORM) {
          throw errors.error('UNSUPPORTED_MEDIA_TYPE', `send the fields as ${FORM} (an OAuth2 token request)`)
        }
      },
      schema: {
        operationId: 'logIn',
        tags: ['login'],
        summary: 'Log in: exchange a username and password for an access token',
        description: `OAuth2 password grant (form fields \`username\`, \`password\`, optional \`grant_type=password\`). Returns a short-lived EdDSA-signed JWT; verify it with GET /auth/.well-known/jwks.json. A wrong username or password is 401 INVALID_CREDENTIALS, without saying which. Rate limited per client address, across every replica: 429 RATE_LIMITED with Retry-After. When the attempt cannot be counted (the database is unavailable), 503 DB_UNAVAILABLE with Retry-After, and the password is not checked.`,
        consumes: [FORM],
        body: TokenForm,
        response: {
          200: described(TokenResponse, 'An access token'),
          ...errors.responses('INVALID_CREDENTIALS', 'RATE_LIMITED'),
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body
      // A name that could never have been registered is an unknown user, not a query.
      const user = USERNAME.test(username) ? await users.findForLogin(username) : undefined
      const valid = await passwords.verify(user?.passwordHash ?? null, password)
      if (!user || !valid || user.disabled) {
        reply.header('www-authenticate', 'Bearer')
        throw errors.error('INVALID_CREDENTIALS', 'incorrect username or password')
      }
      // Tokens must not be cached (RFC 6749 section 5.1).
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      return app.tokens.issue(user)
    },
  )
}
