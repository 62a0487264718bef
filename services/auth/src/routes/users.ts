// /auth/users: registration (public) and reading users (bearer token). Callers
// see their own record in full and other users' public profile (no email); the
// list, and other users' full records, need the users:read scope (admins);
// disabled accounts are invisible to everyone (404, absent from the list).
import {
  type Caller,
  callerOf,
  decodeCursor,
  described,
  hasScope,
  IdParams,
  Page,
  PageQuery,
  requireScope,
  toPage,
} from '@app/service'
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DuplicateUserError, type UserRecord, type UsersRepository } from '../db/users-repository.js'
import { errors } from '../errors.js'
import type { Passwords } from '../passwords.js'
import { CreateUserBody, User } from '../schemas/users.js'

export interface UserRoutesOptions {
  users: UsersRepository
  /** The argon2 queue registration hashes through (503 BUSY when full). */
  passwords: Passwords
  /** Registrations per client address per window, counted in auth.login_rate_limits. */
  rateLimit: { max: number; windowMs: number }
  rateLimitStore: FastifyRateLimitStoreCtor
}

const TAG = ['users']
const USERS_READ = 'users:read'

export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, options) => {
  const { users, passwords } = options
  // Only registration is limited (global: false): the reads are behind a token. Fail
  // closed as login's limit: an attempt that cannot be counted runs no argon2.
  await app.register(rateLimit, {
    global: false,
    store: options.rateLimitStore,
    skipOnError: false,
    errorResponseBuilder: (_request, context) =>
      errors.error('RATE_LIMITED', `too many registrations from your address; retry in ${context.after}`, {
        retryAfterSeconds: Math.ceil(context.ttl / 1000),
      }),
  })

  app.post(
    '/users',
    {
      config: { rateLimit: { max: options.rateLimit.max, timeWindow: options.rateLimit.windowMs } },
      schema: {
        operationId: 'registerUser',
        tags: TAG,
        summary: 'Register a user',
        description:
          'Creates an account. The password is stored only as an argon2id hash, which no response ever contains. The email is an unverified contact address, not an identity: it need not be unique, and an address another account uses registers like any other (so registration tells no one which addresses have accounts). 409 USERNAME_TAKEN when the username is taken (usernames are public), answered after the same password hashing as a success. Rate limited per client address, across every replica: 429 RATE_LIMITED with Retry-After. 503 BUSY with Retry-After when too many password hashes are in progress: nothing is written.',
        body: CreateUserBody,
        response: {
          201: described(User, 'The new user (the password is not echoed)'),
          ...errors.responses('USERNAME_TAKEN', 'RATE_LIMITED', 'BUSY'),
        },
      },
    },
    async (request, reply) => {
      const { username, email, password } = request.body
      // Hashed first, whatever the username: a taken one is found by the insert, after
      // the same argon2 work as a success, so timing does not tell it apart early.
      const passwordHash = await passwords.hash(password)
      let user: UserRecord
      try {
        user = await users.create({ username, email, passwordHash })
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error
        throw errors.error('USERNAME_TAKEN', 'this username is taken; choose another', { field: 'username' })
      }
      return reply.code(201).header('location', `/auth/users/${user.id}`).send(ownView(user))
    },
  )

  app.get(
    '/users',
    {
      // Listing every username is an admin's business (an ordinary user learns whom to
      // guess passwords for): 403 INSUFFICIENT_SCOPE without users:read.
      onRequest: [app.authenticate, requireScope(USERS_READ)],
      schema: {
        operationId: 'listUsers',
        tags: TAG,
        summary: 'List users (admins: scope users:read)',
        description:
          'Enabled users, oldest first, `limit` at a time, each with its email. Pass the returned `nextCursor` as `cursor` for the next page. Needs the `users:read` scope (admins): any other token is 403 INSUFFICIENT_SCOPE.',
        querystring: PageQuery,
        response: { 200: described(Page(User), 'One page of users') },
      },
    },
    async (request) => {
      const viewer = callerOf(request)
      const { limit, cursor } = request.query
      const page = toPage(await users.list(limit + 1, decodeCursor(cursor)), limit)
      return { items: page.items.map((row) => viewOf(row, viewer)), nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/users/me',
    {
      onRequest: app.authenticate,
      schema: {
        operationId: 'getCurrentUser',
        tags: TAG,
        summary: 'The user the token belongs to',
        description: 'Your own record, email included. 401 when the account was disabled after login.',
        response: { 200: described(User, 'Your own record') },
      },
    },
    async (request, reply) => {
      const user = await users.findById(callerOf(request).userId)
      if (!user || user.disabled) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw errors.error('INVALID_TOKEN', 'the account this token was issued to is disabled or gone')
      }
      return ownView(user)
    },
  )

  app.get(
    '/users/:id',
    {
      onRequest: app.authenticate,
      schema: {
        operationId: 'getUser',
        tags: TAG,
        summary: 'Get a user by id',
        description:
          'Your own id returns your full record; any other id the public profile (no email), or the full record when your token has the `users:read` scope (admins). 404 USER_NOT_FOUND for an id with no enabled user.',
        params: IdParams("The user's id"),
        response: {
          200: described(User, 'The user (public profile unless it is you)'),
          ...errors.responses('USER_NOT_FOUND'),
        },
      },
    },
    async (request) => {
      const { id } = request.params
      const user = await users.findById(id)
      if (!user || user.disabled) throw errors.error('USER_NOT_FOUND', `no user with id ${id}`)
      return viewOf(user, callerOf(request))
    },
  )
}

function ownView(user: UserRecord) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  }
}

/** The full record for its owner and for readers of every user (users:read); else the public profile. */
function viewOf(user: UserRecord, viewer: Caller) {
  if (user.id === viewer.userId || hasScope(viewer, USERS_READ)) return ownView(user)
  return {
    id: user.id,
    username: user.username,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  }
}
