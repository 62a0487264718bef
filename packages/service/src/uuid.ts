// One UUID schema for every service's ids. Only the canonical form: ajv-formats'
// `uuid` format also accepts `urn:uuid:` prefixes (and PostgreSQL's uuid input accepts
// braces and missing hyphens, but not the prefix), so a path such as
// /plans/urn:uuid:<uuid> passed validation and failed in the database with a 500.
// The pattern uses the portable regex subset (OpenAPI generators, Python's re).
import { Type } from 'typebox'

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
const UUID = new RegExp(UUID_PATTERN)

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value)
}

/** A UUID in its canonical form, e.g. an id in a path. */
export const Uuid = (options: { description?: string } = {}) =>
  Type.String({
    format: 'uuid',
    pattern: UUID_PATTERN,
    examples: ['0b8f6d5e-3c1a-4f7e-9d2b-6a4c8e1f2a3b'],
    ...options,
  })

/** The path parameters of a route addressing one resource by id: `/things/:id`. */
export const IdParams = (description = 'The id') =>
  Type.Object({ id: Uuid({ description }) }, { additionalProperties: false })
