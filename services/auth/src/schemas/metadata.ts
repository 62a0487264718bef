// GET /.well-known/oauth-authorization-server: RFC 8414's authorization server
// metadata, what a client or another service needs to find auth's endpoints.
import { Type } from 'typebox'

export const AuthorizationServerMetadata = Type.Object(
  {
    issuer: Type.String({
      format: 'uri',
      description: "The tokens' `iss`, exactly: auth's public origin (AUTH_ISSUER)",
    }),
    token_endpoint: Type.String({ format: 'uri', description: 'POST /auth/token, as an absolute URL' }),
    jwks_uri: Type.String({ format: 'uri', description: 'The keys that verify the tokens (JWKS)' }),
    grant_types_supported: Type.Array(Type.Literal('password'), {
      description: 'Only the OAuth2 password grant',
    }),
    scopes_supported: Type.Array(Type.String(), { description: 'Every scope a token can carry' }),
    token_endpoint_auth_methods_supported: Type.Array(Type.Literal('none'), {
      description: 'No client authentication: there are no registered clients',
    }),
    response_types_supported: Type.Array(Type.String(), {
      description:
        'Required by RFC 8414; empty, as there is no authorization endpoint (the password grant needs none)',
    }),
  },
  {
    title: 'AuthorizationServerMetadata',
    examples: [
      {
        issuer: 'http://localhost:5008',
        token_endpoint: 'http://localhost:5008/auth/token',
        jwks_uri: 'http://localhost:5008/auth/.well-known/jwks.json',
        grant_types_supported: ['password'],
        scopes_supported: ['users:read', 'billing:plans:write'],
        token_endpoint_auth_methods_supported: ['none'],
        response_types_supported: [],
      },
    ],
  },
)
