// Bearer authentication with auth's tokens, verified locally (see auth/token-verifier.ts).
// Routes opt in with `onRequest: app.authenticate`, which runs before the body is
// parsed or validated: an anonymous caller learns nothing about the payload rules.
import { ApiError } from '@app/service'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { unauthenticated } from '../auth/errors.js'
import { createTokenVerifier, type TokenVerifierOptions, type VerifiedUser } from '../auth/token-verifier.js'
import { type AuthUsersClient, createAuthUsersClient } from '../auth/users-client.js'

export interface AuthenticatedUser extends VerifiedUser {
  /** The caller's own token, forwarded to auth when billing asks it about the user. */
  token: string
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    authUsers: AuthUsersClient
  }
  interface FastifyRequest {
    user: AuthenticatedUser | null
  }
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i

export const authenticatePlugin = fp(
  async (app: FastifyInstance, options: TokenVerifierOptions) => {
    const verify = createTokenVerifier(options)
    app.decorate(
      'authUsers',
      createAuthUsersClient({ authUrl: options.authUrl, timeoutMs: options.timeoutMs }),
    )
    app.decorateRequest('user', null)
    app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization
      // RFC 6750: tell the client which scheme to use, and why a token failed.
      if (!header) {
        reply.header('www-authenticate', 'Bearer')
        throw unauthenticated(
          'NOT_AUTHENTICATED',
          'this route needs a bearer token: log in at auth (POST /auth/token) and send Authorization: Bearer <access_token>',
        )
      }
      const token = BEARER.exec(header)?.[1]
      if (!token) {
        reply.header('www-authenticate', 'Bearer error="invalid_request"')
        throw unauthenticated('INVALID_TOKEN', 'the Authorization header must be "Bearer <access_token>"')
      }
      try {
        request.user = { ...(await verify(token)), token }
      } catch (error) {
        if (error instanceof ApiError && error.statusCode === 401) {
          reply.header('www-authenticate', 'Bearer error="invalid_token"')
        }
        throw error
      }
    })
  },
  { name: 'authenticate' },
)

/** The authenticated caller; only for routes that run `app.authenticate`. */
export function callerOf(request: FastifyRequest): AuthenticatedUser {
  if (!request.user) throw new Error(`${request.routeOptions.url} reads the caller without app.authenticate`)
  return request.user
}
