// Every error code a service answers, with its HTTP status and what it means: the
// kit's shared codes (KIT_ERRORS) beside each service's own (defineErrors). Routes
// throw through the registry, so a code can only be one that is defined, and their
// OpenAPI responses list, for each status, exactly the codes the route may send (an
// enum on `code`), so a client generated from the document can switch on them.
import { type TSchema, Type } from 'typebox'
import { ApiError } from './errors.js'

export interface ErrorDefinition {
  status: number
  /** What the code means, for the OpenAPI document and the README. */
  description: string
}

export const KIT_ERRORS = {
  MALFORMED_JSON: {
    status: 400,
    description: 'the body is not valid JSON (or empty with a JSON content type)',
  },
  INVALID_CONTENT_LENGTH: { status: 400, description: 'Content-Length does not match the body' },
  BAD_REQUEST: { status: 400, description: 'the request is malformed' },
  NOT_AUTHENTICATED: {
    status: 401,
    description: 'no bearer token: send `Authorization: Bearer <access_token>`',
  },
  INVALID_TOKEN: {
    status: 401,
    description: 'the bearer token is malformed, expired, or not signed by a key the service trusts',
  },
  INSUFFICIENT_SCOPE: {
    status: 403,
    description:
      'the bearer token lacks the scope this operation needs (WWW-Authenticate names it): log in as a user whose role grants it',
  },
  ROUTE_NOT_FOUND: { status: 404, description: 'no such route' },
  BODY_TOO_LARGE: { status: 413, description: 'the body is larger than BODY_LIMIT_BYTES' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'the content type is not the one this route takes' },
  VALIDATION_FAILED: { status: 422, description: 'a field is invalid: `details` names each one' },
  RATE_LIMITED: { status: 429, description: 'too many requests: retry after Retry-After seconds' },
  INTERNAL_ERROR: {
    status: 500,
    description: 'an unexpected error: the service log has it under the request id in `details`',
  },
  SERVICE_STARTING: {
    status: 503,
    description: 'the service is starting (waiting for the database or its migrations): retry shortly',
  },
  DB_UNAVAILABLE: { status: 503, description: 'the database is unreachable: retry shortly' },
  DB_TIMEOUT: {
    status: 503,
    description: 'the database did not answer in time (statement or lock timeout): retry shortly',
  },
  AUTH_UNAVAILABLE: {
    status: 503,
    description:
      'the auth service could not be asked (keys or user check): nothing was written, retry shortly',
  },
} as const satisfies Record<string, ErrorDefinition>

export type KitErrorCode = keyof typeof KIT_ERRORS

export interface ErrorRegistry<C extends string> {
  readonly definitions: Readonly<Record<C | KitErrorCode, ErrorDefinition>>
  /** The error to throw for `code`: its status comes from the definition. */
  error(code: C | KitErrorCode, message: string, details?: unknown): ApiError
  /** A route's error responses: one schema per status whose `code` is an enum of these codes. */
  responses(...codes: (C | KitErrorCode)[]): Record<number, TSchema>
}

/** A service's error codes, merged with the kit's; a code the kit defines cannot be redefined. */
export function defineErrors<const D extends Record<string, ErrorDefinition>>(
  own: D & { [K in keyof D]: K extends KitErrorCode ? never : ErrorDefinition },
): ErrorRegistry<Extract<keyof D, string>> {
  const definitions = { ...KIT_ERRORS, ...own } as Record<string, ErrorDefinition>
  return {
    definitions: definitions as ErrorRegistry<Extract<keyof D, string>>['definitions'],
    error(code, message, details) {
      return new ApiError(definitions[code]!.status, code, message, details)
    },
    responses: (...codes) => errorResponsesFor(definitions, codes),
  }
}

/** The kit's own codes, for routes the kit registers (health, docs) and for tests. */
export const kitErrors = defineErrors({})

export function errorResponsesFor(
  definitions: Record<string, ErrorDefinition>,
  codes: readonly string[],
): Record<number, TSchema> {
  const byStatus = new Map<number, string[]>()
  for (const code of codes) {
    const definition = definitions[code]
    if (!definition) throw new Error(`error code ${code} is not defined`)
    byStatus.set(definition.status, [...new Set([...(byStatus.get(definition.status) ?? []), code])])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [status, errorSchema(definitions, status, statusCodes)]),
  )
}

// What each code in a schema made here means, to rebuild it with more codes.
const meanings = new WeakMap<object, Record<string, string>>()

/** The shared error shape, with `code` narrowed to the codes this status may carry. */
export function errorSchema(
  definitions: Record<string, ErrorDefinition>,
  status: number,
  codes: readonly string[],
): TSchema {
  const sorted = [...codes].sort()
  const schema = Type.Object(
    {
      statusCode: Type.Literal(status, { description: 'The HTTP status, repeated for clients that lose it' }),
      code: Type.Unsafe<string>({
        type: 'string',
        enum: sorted,
        description: 'Stable, machine-readable error code',
      }),
      message: Type.String({ description: 'What went wrong, naming the offending field when there is one' }),
      details: Type.Optional(
        Type.Unknown({ description: 'Structured context, e.g. one entry per invalid field' }),
      ),
    },
    {
      title: `Error${status}`,
      description: sorted.map((code) => `\`${code}\`: ${definitions[code]?.description ?? ''}`).join('; '),
      examples: [{ statusCode: status, code: sorted[0], message: definitions[sorted[0]!]?.description }],
    },
  )
  meanings.set(schema, Object.fromEntries(sorted.map((code) => [code, definitions[code]?.description ?? ''])))
  return schema
}

/** `existing` (made by errorSchema, or absent) with `codes` added: the union of both. */
export function withCodes(existing: TSchema | undefined, status: number, codes: readonly string[]): TSchema {
  const known = (existing && meanings.get(existing)) ?? {}
  const definitions: Record<string, ErrorDefinition> = Object.fromEntries(
    Object.entries(known).map(([code, description]) => [code, { status, description }]),
  )
  for (const code of codes)
    definitions[code] ??= KIT_ERRORS[code as KitErrorCode] ?? { status, description: '' }
  return errorSchema(definitions, status, Object.keys(definitions))
}

/** The codes a response schema made by errorSchema carries. */
export function codesOf(schema: unknown): string[] {
  const codes = (schema as { properties?: { code?: { enum?: unknown[] } } }).properties?.code?.enum
  return (codes ?? []).filter((code): code is string => typeof code === 'string')
}
