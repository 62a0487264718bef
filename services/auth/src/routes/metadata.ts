// RFC 8414 authorization server metadata, at the root of the issuer (whose URL has
// no path): where to log in, where the verification keys are, which scopes exist.
// Every URL is the issuer's, so it is what clients reach auth at (AUTH_ISSUER).
import { described } from '@app/service'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AuthorizationServerMetadata } from '../schemas/metadata.js'
import { SCOPES } from '../tokens/scopes.js'

export const metadataRoutes: FastifyPluginAsyncTypebox<{ issuer: string }> = async (app, { issuer }) => {
  const metadata = Object.freeze({
    issuer,
    token_endpoint: `${issuer}/auth/token`,
    jwks_uri: `${issuer}/auth/.well-known/jwks.json`,
    grant_types_supported: ['password' as const],
    scopes_supported: Object.keys(SCOPES),
    token_endpoint_auth_methods_supported: ['none' as const],
    response_types_supported: [],
  })
  app.get(
    '/.well-known/oauth-authorization-server',
    {
      schema: {
        operationId: 'getAuthorizationServerMetadata',
        tags: ['login'],
        summary: 'Authorization server metadata (RFC 8414)',
        description:
          "The issuer (the tokens' `iss`), the token endpoint, the JWKS and the scopes a token can carry.",
        response: { 200: described(AuthorizationServerMetadata, 'The metadata') },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return metadata
    },
  )
}
