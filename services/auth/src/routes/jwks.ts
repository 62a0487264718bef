// The public halves of the key set (the current signing key first), for services
// that verify auth's tokens without sharing a secret (billing fetches and caches
// them, and fetches again on an unknown `kid`, which is how a rotation reaches it).

import { described } from '@app/service'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Jwks } from '../schemas/jwks.js'

export const jwksRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        operationId: 'getSigningKeys',
        tags: ['login'],
        summary: "The public keys that verify this service's tokens (JWKS)",
        description:
          "RFC 7517 key set. Verify tokens with algorithm EdDSA only, and check the header's `typ` (at+jwt), `iss`, `aud` (your service's name) and `exp`.",
        response: { 200: described(Jwks, 'The key set') },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return app.tokens.jwks()
    },
  )
}
