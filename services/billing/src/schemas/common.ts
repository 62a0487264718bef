// Contracts shared by billing's routes.
import { type TSchema, Type } from 'typebox'

export const Uuid = Type.String({ format: 'uuid', examples: ['0b8f6d5e-3c1a-4f7e-9d2b-6a4c8e1f2a3b'] })

export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-22T08:00:00.000Z'] })

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      // Visible ASCII, as header values travel safely everywhere.
      pattern: '^[\\x21-\\x7E]+$',
      description:
        'Makes a retry safe: a request repeated with the same key (per user) and the same body within the retention period (24 hours unless configured otherwise) is not executed again; the first response is returned, with `Idempotent-Replayed: true`. The same key with a different request gives 422 IDEMPOTENCY_KEY_REUSED. A random UUID per logical request is a good key (e.g. `4f1c2d9e-7b3a-4e8f-a6d5-0c9b8e7f6a5d`).',
      // No `examples`: Swagger UI's Try it out would prefill every POST with that one
      // key, and the page's second POST would be 422 IDEMPOTENCY_KEY_REUSED.
    }),
  ),
})

/**
 * The bearer token from auth, for the OpenAPI `security` of protected routes: either
 * way Swagger UI offers it, its OAuth2 login form (posting to auth) or a pasted token.
 */
export const bearerSecurity = [{ OAuth2PasswordBearer: [] }, { bearerAuth: [] }]

/** A response schema with its OpenAPI description (what the client receives). */
export function described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description }
}
