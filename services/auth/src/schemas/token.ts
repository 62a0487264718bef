// POST /auth/token's contracts: OAuth2's password grant (RFC 6749 section 4.3) as
// FastAPI's OAuth2PasswordRequestForm takes it, so Swagger UI's Authorize works.
import { Type } from 'typebox'

export const TokenForm = Type.Object(
  {
    grant_type: Type.Optional(
      Type.Literal('password', { description: 'OAuth2 grant type; only `password`' }),
    ),
    username: Type.String({ minLength: 1, maxLength: 254, examples: ['alice'] }),
    password: Type.String({
      minLength: 1,
      maxLength: 1024,
      examples: ['correct horse battery staple'],
    }),
    scope: Type.Optional(
      Type.String({
        maxLength: 1024,
        description:
          "OAuth2 scopes asked for, space-separated: the token gets those your role grants. Absent or blank: every scope of your role. A scope your role lacks is left out (the response's `scope` says what was granted).",
        examples: ['billing:plans:write'],
      }),
    ),
    // Sent by OAuth2 clients such as Swagger UI; accepted and ignored (no registered clients).
    client_id: Type.Optional(Type.String({ maxLength: 256, description: 'Ignored' })),
    client_secret: Type.Optional(Type.String({ maxLength: 256, description: 'Ignored' })),
  },
  {
    additionalProperties: false,
    examples: [{ grant_type: 'password', username: 'alice', password: 'correct horse battery staple' }],
  },
)

export const TokenResponse = Type.Object(
  {
    access_token: Type.String({
      description: 'A JWT signed with EdDSA; send it as `Authorization: Bearer <token>`',
    }),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the token expires', examples: [900] }),
    scope: Type.String({
      description: 'The scopes granted, space-separated; empty when none (an ordinary user)',
      examples: ['users:read billing:plans:write'],
    }),
  },
  {
    title: 'AccessToken',
    examples: [
      {
        access_token:
          'eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9.eyJ1c2VybmFtZSI6ImFsaWNlIn0.c2ln',
        token_type: 'bearer',
        expires_in: 900,
        scope: 'users:read billing:plans:write',
      },
    ],
  },
)
