// Bearer authentication for the routes that need it: `onRequest: app.authenticate`
// verifies the token locally (signature, iss, aud, exp; no database round trip)
// and sets request.user. Failures are 401 with a WWW-Authenticate challenge
// (RFC 6750), in the shared error shape.
import { ApiError } from '@app/service'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { InvalidTokenError, type Principal } from '../tokens/tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>
  }
  interface FastifyRequest {
    /** Set by app.authenticate; null on routes that don't use it. */
    user: Principal | null
  }
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i

export const authenticatePlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('user', null)
    app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
      const match = BEARER.exec(request.headers.authorization ?? '')
      if (!match) {
        reply.header('www-authenticate', 'Bearer')
        throw new ApiError(
          401,
          'NOT_AUTHENTICATED',
          'this route needs an access token: send `Authorization: Bearer <token>` (get one from POST /auth/token)',
        )
      }
      try {
        request.user = await app.tokens.verify(match[1]!)
      } catch (error) {
        if (!(error instanceof InvalidTokenError)) throw error
        reply.header('www-authenticate', `Bearer error="invalid_token"`)
        throw new ApiError(
          401,
          'INVALID_TOKEN',
          error.reason === 'expired'
            ? 'the access token has expired; log in again at POST /auth/token'
            : 'the access token is not valid here; log in again at POST /auth/token',
        )
      }
    })
  },
  { name: 'authenticate', dependencies: ['tokens'] },
)

/** The principal of an authenticated request (routes that use app.authenticate). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.user) throw new Error('principalOf() on a route without onRequest: app.authenticate')
  return request.user
}
