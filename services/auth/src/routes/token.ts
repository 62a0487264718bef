// POST /auth/token: OAuth2's password grant, FastAPI-style, so Swagger UI's
// Authorize button logs in. Encapsulated: the form parser and the rate limit
// exist only in this plugin, so every other route stays JSON-only and unlimited.
// Attempts are counted in auth.login_rate_limits, so the limit holds across replicas,
// and fail closed: an attempt that cannot be counted is refused before the handler.
//
// An unknown user, a wrong password and a disabled account get the same 401, and
// cost the same argon2 verification (against a dummy hash when there is no user).
// Guessing one account from many addresses is held back per username
// (db/login-failures-repository.ts): after a few consecutive failures its attempts
// are refused, without argon2, for a hold that doubles with each further failure.
//
// CORS, for this route only: billing's Swagger UI (another origin) posts its
// Authorize form here, with X-Requested-With, so the browser sends a preflight first.
import { described } from '@app/service'
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import formbody from '@fastify/formbody'
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { LoginFailuresRepository } from '../db/login-failures-repository.js'
import type { UsersRepository } from '../db/users-repository.js'
import { errors } from '../errors.js'
import type { Passwords } from '../passwords.js'
import { TokenForm, TokenResponse } from '../schemas/token.js'
import { USERNAME_PATTERN } from '../schemas/users.js'
import { grantedScopes } from '../tokens/scopes.js'

export interface TokenRoutesOptions {
  users: UsersRepository
  passwords: Passwords
  /** Consecutive failures per username, shared by every replica. */
  loginFailures: LoginFailuresRepository
  rateLimit: { max: number; windowMs: number }
  /** Where attempts are counted: shared by every replica (see postgres-rate-limit-store.ts). */
  rateLimitStore: FastifyRateLimitStoreCtor
  /** Browser origins whose pages may log in here (CORS); ['*'] for any. */
  corsOrigins: readonly string[]
}

const FORM = 'application/x-www-form-urlencoded'
const USERNAME = new RegExp(USERNAME_PATTERN)

export const tokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (app, options) => {
  const { users, passwords, loginFailures } = options
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
        description: `OAuth2 password grant (form fields \`username\`, \`password\`, optional \`grant_type=password\`). Returns a short-lived EdDSA-signed JWT (RFC 9068: typ at+jwt); verify it with GET /auth/.well-known/jwks.json. Its \`scope\` claim holds what your role allows (an admin's: \`users:read billing:plans:write\`; a user's: none), narrowed to the optional \`scope\` field (space-separated) when it names any; the response's \`scope\` says what was granted. A wrong username or password is 401 INVALID_CREDENTIALS, without saying which. Rate limited per client address, across every replica: 429 RATE_LIMITED with Retry-After. When the attempt cannot be counted (the database is unavailable), 503 DB_UNAVAILABLE with Retry-After, and the password is not checked. After AUTH_LOGIN_BACKOFF_AFTER_FAILURES consecutive failures for one username (from any address; unknown usernames count alike), its logins are refused without checking the password: 429 LOGIN_BACKOFF with Retry-After, for a hold that doubles with each further failure; a success clears the count. 503 BUSY with Retry-After when too many password checks are in progress.`,
        consumes: [FORM],
        body: TokenForm,
        response: {
          200: described(TokenResponse, 'An access token'),
          ...errors.responses('INVALID_CREDENTIALS', 'RATE_LIMITED', 'LOGIN_BACKOFF', 'BUSY'),
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body
      // A name that could never have been registered is an unknown user, not a query
      // (nor a backoff row: it can never log in, and the address limit bounds it).
      const registrable = USERNAME.test(username)
      // A place in the argon2 queue first (503 BUSY when it is full), so that a login
      // refused BUSY is not charged to the username: a flood cannot lock accounts out.
      const ticket = passwords.admit()
      let user: Awaited<ReturnType<UsersRepository['findForLogin']>>
      let valid: boolean
      try {
        if (registrable) {
          // Charged before the password is checked (a success clears it): held back, no argon2.
          const attempt = await loginFailures.attempt(username)
          if (!attempt.allowed) {
            const seconds = Math.ceil(attempt.retryAfterMs / 1000)
            reply.header('retry-after', String(seconds))
            throw errors.error(
              'LOGIN_BACKOFF',
              `too many failed logins for this username; retry in ${seconds} second${seconds === 1 ? '' : 's'}`,
              { retryAfterSeconds: seconds },
            )
          }
        }
        user = registrable ? await users.findForLogin(username) : undefined
        valid = await ticket.verify(user?.passwordHash ?? null, password)
      } finally {
        ticket.release()
      }
      if (!user || !valid || user.disabled) {
        reply.header('www-authenticate', 'Bearer')
        throw errors.error('INVALID_CREDENTIALS', 'incorrect username or password')
      }
      await loginFailures.succeeded(username)
      // Tokens must not be cached (RFC 6749 section 5.1).
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      // The role's scopes, narrowed to those asked for (OAuth2's `scope` field).
      return app.tokens.issue(user, grantedScopes(user.role, request.body.scope))
    },
  )
}
