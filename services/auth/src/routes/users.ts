// /auth/users: registration (public) and reading users (bearer token). Callers
// see their own record in full and other users' public profile (no email);
// disabled accounts are invisible to everyone (404, absent from the list).
import { callerOf, decodeCursor, described, IdParams, Page, PageQuery, toPage } from '@app/service'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DuplicateUserError, type UserRecord, type UsersRepository } from '../db/users-repository.js'
import { errors } from '../errors.js'
import { hashPassword } from '../passwords.js'
import { CreateUserBody, User } from '../schemas/users.js'

export interface UserRoutesOptions {
  users: UsersRepository
}

const DUPLICATE = {
  username: { code: 'USERNAME_TAKEN', message: 'this username is taken; choose another' },
  email: { code: 'EMAIL_TAKEN', message: 'a user with this email exists; log in instead' },
} as const satisfies Record<string, { code: keyof typeof errors.definitions; message: string }>

const TAG = ['users']

export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, { users }) => {
  app.post(
    '/users',
    {
      schema: {
        operationId: 'registerUser',
        tags: TAG,
        summary: 'Register a user',
        description:
          'Creates an account. The password is stored only as an argon2id hash, which no response ever contains. 409 when the username, or the email ignoring case, is taken.',
        body: CreateUserBody,
        response: {
          201: described(User, 'The new user (the password is not echoed)'),
          ...errors.responses('USERNAME_TAKEN', 'EMAIL_TAKEN'),
        },
      },
    },
    async (request, reply) => {
      const { username, email, password } = request.body
      const passwordHash = await hashPassword(password)
      let user: UserRecord
      try {
        user = await users.create({ username, email, passwordHash })
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error
        const { code, message } = DUPLICATE[error.field]
        throw errors.error(code, message, { field: error.field })
      }
      return reply.code(201).header('location', `/auth/users/${user.id}`).send(ownView(user))
    },
  )

  app.get(
    '/users',
    {
      onRequest: app.authenticate,
      schema: {
        operationId: 'listUsers',
        tags: TAG,
        summary: 'List users',
        description:
          'Enabled users, oldest first, `limit` at a time. Pass the returned `nextCursor` as `cursor` for the next page. Your own entry includes your email; the others show the public profile.',
        querystring: PageQuery,
        response: { 200: described(Page(User), 'One page of users') },
      },
    },
    async (request) => {
      const viewer = callerOf(request).userId
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
          'Your own id returns your full record; any other id the public profile (no email). 404 USER_NOT_FOUND for an id with no enabled user.',
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
      return viewOf(user, callerOf(request).userId)
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

function viewOf(user: UserRecord, viewerId: string) {
  if (user.id === viewerId) return ownView(user)
  return {
    id: user.id,
    username: user.username,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  }
}
