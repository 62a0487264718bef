// Building blocks of the services' TypeBox contracts.
import { type Static, type TSchema, type TSchemaOptions, Type } from 'typebox'

export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-22T08:30:00.000Z'] })

/**
 * A response schema with the description OpenAPI shows for that status (instead of
 * "Default Response"). Only the JSON Schema reaches Fastify; the static type is kept.
 */
export function described<T extends object>(schema: T, description: string): T {
  return { ...schema, description }
}

/**
 * `schema` or null, written as one JSON Schema type list (`type: ['string', 'null']`)
 * rather than a union (anyOf): the response serializer writes a type list directly,
 * where an anyOf has Ajv compile a validator for it at the first answer.
 */
export function Nullable<T extends TSchema>(schema: T, options: TSchemaOptions = {}) {
  // The schema's JSON only: TypeBox's own markers would make it the non-null type again.
  const json = JSON.parse(JSON.stringify(schema)) as { type?: unknown }
  if (typeof json.type !== 'string') throw new TypeError('Nullable() takes a schema of one type')
  return Type.Unsafe<Static<T> | null>({ ...json, ...options, type: [json.type, 'null'] })
}
