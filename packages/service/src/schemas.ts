// Building blocks of the services' TypeBox contracts.
import { Type } from 'typebox'

export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-22T08:30:00.000Z'] })

/**
 * A response schema with the description OpenAPI shows for that status (instead of
 * "Default Response"). Only the JSON Schema reaches Fastify; the static type is kept.
 */
export function described<T extends object>(schema: T, description: string): T {
  return { ...schema, description }
}
