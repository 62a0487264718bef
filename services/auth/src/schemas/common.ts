// Building blocks shared by auth's contracts.
import { Type } from 'typebox'

// A pattern as well as the format: ajv's `uuid` format also accepts a `urn:uuid:`
// prefix, which Postgres would refuse (a 500 instead of a 422).
export function Uuid(options: { description?: string } = {}) {
  return Type.String({
    format: 'uuid',
    pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
    examples: ['0b9c8f4e-3c1a-4f5e-9a57-2f1d6c2b7e10'],
    ...options,
  })
}

export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-22T08:30:00.000Z'] })

/** Both ways of presenting the token in Swagger UI: its OAuth2 login form, or a pasted token. */
export const bearerSecurity = [{ OAuth2PasswordBearer: [] }, { bearerAuth: [] }]

/**
 * A response schema with the description OpenAPI shows for that status (instead
 * of "Default Response"). Only the JSON Schema reaches Fastify; the static type is kept.
 */
export function described<T extends object>(schema: T, description: string): T {
  return { ...schema, description }
}
