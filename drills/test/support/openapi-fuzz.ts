// Requests generated from a service's own OpenAPI document (/openapi.json), route
// by route, with fast-check: path parameters, query strings, headers and bodies
// drawn from each field's schema, mostly valid-looking (so requests reach the
// handlers and the database) and mixed with hostile values: SQL-injection-looking
// text, NUL bytes, lone surrogates and other unicode edge cases, huge and
// out-of-range numbers, wrong types, missing and unknown fields.
import fc from 'fast-check'
import type { DrillRequest } from './http.js'

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  pattern?: string
  format?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  examples?: unknown[]
  default?: unknown
}

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema: JsonSchema
}

export interface RouteSpec {
  method: string
  /** OpenAPI template, e.g. /auth/users/{id}. */
  path: string
  parameters: Parameter[]
  body?: { contentType: string; schema: JsonSchema }
  secured: boolean
}

interface OpenApiOperation {
  parameters?: Parameter[]
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
  security?: unknown[]
}

export function routesOf(document: { paths: Record<string, Record<string, OpenApiOperation>> }): RouteSpec[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => {
      const [contentType, media] = Object.entries(operation.requestBody?.content ?? {})[0] ?? []
      return {
        method: method.toUpperCase(),
        path,
        parameters: operation.parameters ?? [],
        ...(contentType && media?.schema ? { body: { contentType, schema: media.schema } } : {}),
        secured: (operation.security?.length ?? 0) > 0,
      }
    }),
  )
}

/** What valid-looking values can draw on: tokens that verify, ids that exist. */
export interface FuzzContext {
  tokens: string[]
  ids: string[]
}

export const SQL_INJECTION = [
  "' OR '1'='1",
  "'; DROP TABLE auth.users; --",
  "'; DROP TABLE billing.subscriptions; --",
  '" OR ""="',
  "admin'--",
  "') OR ('a'='a",
  '1; SELECT pg_sleep(10); --',
  "1' UNION SELECT password_hash FROM auth.users --",
  '$$; DROP SCHEMA billing CASCADE; $$',
  "%' OR 1=1 --",
  "\\'; TRUNCATE auth.users; --",
]

export const UNICODE_EDGES = [
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(8),
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '😀',
  '👩‍👩‍👧‍👦',
  '𝕳𝖊𝖑𝖑𝖔',
  'e\u0301',
  'Z̸̢͚̞̯ͪ̍̌a',
  '\u202eevil',
  '\ufeffbom',
  '\u200b',
  '\u2028\u2029',
  '\u0085',
  '\u00a0',
  '\uffff',
  '\u{10ffff}',
  '\t',
  '\r\n',
  ' lead',
  'trail ',
  '',
]

const ODD_TEXT = [
  'null',
  'undefined',
  'NaN',
  'true',
  '-1',
  '0',
  '1e309',
  '9'.repeat(40),
  '0x1F',
  '../../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  '{{7*7}}',
  '$' + '{7*7}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'x'.repeat(5000),
  '€'.repeat(3000),
]

const HOSTILE_TEXT = [...SQL_INJECTION, ...UNICODE_EDGES, ...ODD_TEXT]

const WRONG_TYPES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53 + 2,
  -(2 ** 63),
  1e308,
  '',
  '12',
  [],
  [1, 'a'],
  {},
  { nested: { deeper: [null] } },
  JSON.parse('{"__proto__":{"polluted":true}}'),
]

const EDGE_NUMBERS = [
  0,
  -0,
  -1,
  1,
  1.5,
  -1.5,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 53,
  2 ** 63,
  1e21,
  1e308,
  -1e308,
]

/** Visible ASCII with inner spaces: what a header value can carry through fetch. */
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 300,
})

function schemaTypes(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type
  return schema.type ? [schema.type] : []
}

// Two modes: `valid` draws only values the schema accepts (so requests get through
// validation to the handlers and the database); `hostile` mixes them with hostile
// text, edge numbers, wrong types, missing and unknown fields.
type Mode = 'valid' | 'hostile'

function validString(schema: JsonSchema, context: FuzzContext): fc.Arbitrary<string> {
  const options: fc.Arbitrary<string>[] = []
  if (schema.examples?.length) options.push(fc.constantFrom(...schema.examples.map(String)))
  if (schema.format === 'uuid') {
    options.push(fc.uuid())
    // Mostly ids of real rows, so lookups also find something.
    if (context.ids.length > 0)
      options.push(...Array.from({ length: 4 }, () => fc.constantFrom(...context.ids)))
  } else if (schema.format === 'email') {
    options.push(fc.emailAddress().filter((email) => email.length <= (schema.maxLength ?? 254)))
  } else if (schema.format === 'date-time') {
    options.push(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()))
  } else if (schema.pattern) {
    options.push(patternString(schema))
  } else {
    options.push(
      fc.string({
        unit: 'grapheme',
        minLength: schema.minLength ?? 0,
        maxLength: Math.max(schema.minLength ?? 0, Math.min(schema.maxLength ?? 64, 64)),
      }),
    )
  }
  return fc.oneof(...options)
}

function patternString(schema: JsonSchema): fc.Arbitrary<string> {
  const pattern = new RegExp(schema.pattern!, 'u')
  const fits = (text: string) =>
    pattern.test(text) &&
    text.length >= (schema.minLength ?? 0) &&
    text.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY)
  try {
    return fc.stringMatching(pattern).filter(fits)
  } catch {
    // Patterns fast-check cannot generate from (\p{...}): draw text and keep what fits.
    return fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(schema.maxLength ?? 32, 32) })
      .filter(fits)
  }
}

/**
 * The other spellings of a UUID: ajv-formats' `uuid` format takes `urn:uuid:`, and
 * PostgreSQL's uuid input takes braces, no hyphens, and upper case (RFC 9562: case-
 * insensitive). A service must answer each with a 4xx (upper case: as the lower-case
 * form), never pass one through to a database that rejects it with a 500.
 */
export const UUID_SPELLINGS = {
  urn: (id: string) => `urn:uuid:${id}`,
  braced: (id: string) => `{${id}}`,
  upperCase: (id: string) => id.toUpperCase(),
  noHyphens: (id: string) => id.replaceAll('-', ''),
  bracedNoHyphens: (id: string) => `{${id.replaceAll('-', '')}}`,
  upperCaseUrn: (id: string) => `URN:UUID:${id.toUpperCase()}`,
} as const

function uuidSpellings(context: FuzzContext): fc.Arbitrary<string> {
  const ids = context.ids.length > 0 ? fc.oneof(fc.uuid(), fc.constantFrom(...context.ids)) : fc.uuid()
  return fc.tuple(ids, fc.constantFrom(...Object.values(UUID_SPELLINGS))).map(([id, spell]) => spell(id))
}

function hostileString(schema: JsonSchema, context: FuzzContext): fc.Arbitrary<string> {
  const valid = validString(schema, context)
  const spellings = schema.format === 'uuid' ? [{ weight: 3, arbitrary: uuidSpellings(context) }] : []
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    ...spellings,
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.constantFrom(...UNICODE_EDGES, ...SQL_INJECTION), fc.boolean())
        .map(([text, edge, before]) => (before ? edge + text : text + edge)),
    },
  )
}

function numberValue(schema: JsonSchema, integer: boolean, mode: Mode): fc.Arbitrary<number> {
  const min = schema.minimum ?? -1_000_000
  const max = schema.maximum ?? 1_000_000
  const inRange = integer
    ? fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) })
    : fc.double({ min, max, noNaN: true })
  if (mode === 'valid') return inRange
  return fc.oneof(
    { weight: 3, arbitrary: inRange },
    { weight: 2, arbitrary: fc.constantFrom(...EDGE_NUMBERS, min - 1, max + 1) },
    { weight: 1, arbitrary: fc.double() },
  )
}

/** A JSON value for a schema: in `valid` mode one it accepts, in `hostile` mode anything near it. */
function jsonValue(schema: JsonSchema, context: FuzzContext, mode: Mode, depth = 0): fc.Arbitrary<unknown> {
  const alternatives = schema.anyOf ?? schema.oneOf
  let shaped: fc.Arbitrary<unknown>
  if (alternatives) {
    shaped = fc.oneof(...alternatives.map((alternative) => jsonValue(alternative, context, mode, depth)))
  } else if (schema.enum || schema.const !== undefined) {
    shaped = fc.constantFrom(...(schema.enum ?? [schema.const]))
  } else {
    const [type] = schemaTypes(schema)
    if (type === 'string')
      shaped = mode === 'valid' ? validString(schema, context) : hostileString(schema, context)
    else if (type === 'integer' || type === 'number') shaped = numberValue(schema, type === 'integer', mode)
    else if (type === 'boolean') shaped = fc.boolean()
    else if (type === 'null') shaped = fc.constant(null)
    else if (type === 'array') {
      shaped =
        depth > 3
          ? fc.constant([])
          : fc.array(jsonValue(schema.items ?? {}, context, mode, depth + 1), { maxLength: 5 })
    } else if (type === 'object')
      shaped = depth > 3 ? fc.constant({}) : objectValue(schema, context, mode, depth)
    else shaped = hostileString({}, context)
  }
  if (mode === 'valid') return shaped
  return fc.oneof({ weight: 6, arbitrary: shaped }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPES) })
}

function objectValue(
  schema: JsonSchema,
  context: FuzzContext,
  mode: Mode,
  depth: number,
): fc.Arbitrary<unknown> {
  const required = new Set(schema.required ?? [])
  const entries = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const value = jsonValue(property, context, mode, depth + 1)
    // Valid: required fields always, optional ones half the time. Hostile: any may be missing.
    const present =
      mode === 'valid' && required.has(name)
        ? value
        : fc.option(value, { freq: mode === 'valid' ? 1 : 6, nil: undefined })
    return [name, present] as const
  })
  const extra =
    mode === 'valid'
      ? fc.constant(undefined)
      : fc.option(
          fc.tuple(
            fc.constantFrom('extra', 'id', 'userId', 'passwordHash', 'isAdmin', '__proto__', ''),
            jsonValue({}, context, mode, 4),
          ),
          { freq: 4, nil: undefined },
        )
  return fc.tuple(fc.record(Object.fromEntries(entries)), extra).map(([record, added]) => {
    const value: Record<string, unknown> = {}
    for (const [name, v] of Object.entries(record)) if (v !== undefined) value[name] = v
    // defineProperty: a plain assignment of `__proto__` would set the prototype instead.
    if (added) Object.defineProperty(value, added[0], { value: added[1], enumerable: true, writable: true })
    return value
  })
}

/** Text as it travels in a URL or a form field. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined')
}

/** Percent-encodes UTF-8 bytes; unlike encodeURIComponent it never throws on a lone surrogate. */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('')
}

function bearerTokens(context: FuzzContext): fc.Arbitrary<string> {
  return fc
    .constantFrom(...(context.tokens.length > 0 ? context.tokens : ['none']))
    .map((token) => `Bearer ${token}`)
}

function hostileAuthorization(context: FuzzContext): fc.Arbitrary<string | undefined> {
  const token = context.tokens[0] ?? 'none'
  return fc.oneof(
    { weight: 4, arbitrary: bearerTokens(context) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        undefined,
        'Bearer',
        'Bearer ',
        'Basic YWRtaW46YWRtaW4=',
        'Bearer not.a.token',
        "Bearer ' OR '1'='1",
        `Bearer ${token}x`,
        `bearer    ${token}`,
        `Bearer ${'a'.repeat(6000)}`,
      ),
    },
    { weight: 1, arbitrary: headerText.map((text) => `Bearer ${text}`) },
  )
}

const OTHER_CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'application/octet-stream',
  '*/*',
  'application/json, text/plain',
]

function encodeBody(contentType: string, value: unknown): string {
  const form = contentType === 'application/x-www-form-urlencoded'
  if (form && value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value)
      .map(([name, field]) => `${percentEncode(name)}=${percentEncode(asText(field))}`)
      .join('&')
  }
  return form ? percentEncode(asText(value)) : JSON.stringify(value)
}

/** Requests for one route, shaped by its schemas: a quarter valid, the rest hostile. */
export function requestsFor(route: RouteSpec, context: FuzzContext): fc.Arbitrary<DrillRequest> {
  return fc.oneof(
    { weight: 1, arbitrary: requestArbitrary(route, context, 'valid') },
    { weight: 3, arbitrary: requestArbitrary(route, context, 'hostile') },
  )
}

function requestArbitrary(route: RouteSpec, context: FuzzContext, mode: Mode): fc.Arbitrary<DrillRequest> {
  const hostile = mode === 'hostile'
  const params = (place: Parameter['in']) => route.parameters.filter((p) => p.in === place)

  const path = fc
    .record(
      Object.fromEntries(params('path').map((p) => [p.name, jsonValue(p.schema, context, mode).map(asText)])),
    )
    .map((values) =>
      route.path.replace(/\{(\w+)\}/g, (_m, name: string) => percentEncode(values[name] ?? '')),
    )

  const queryValues = (p: Parameter) => {
    const one = jsonValue(p.schema, context, mode).map((v) => [asText(v)])
    // Hostile: repeated parameters (they arrive as an array), or none.
    const value = hostile
      ? fc.oneof(
          { weight: 4, arbitrary: one },
          {
            weight: 1,
            arbitrary: fc.array(jsonValue(p.schema, context, mode).map(asText), {
              minLength: 2,
              maxLength: 3,
            }),
          },
        )
      : one
    return p.required && !hostile ? value : fc.option(value, { freq: hostile ? 5 : 1, nil: undefined })
  }
  const extraQuery = hostile
    ? fc.option(
        fc.tuple(
          fc.constantFrom('extra', 'limit[]', '__proto__', 'cursor[a]', ''),
          fc.constantFrom(...HOSTILE_TEXT),
        ),
        { freq: 4, nil: undefined },
      )
    : fc.constant(undefined)
  const query = fc
    .tuple(fc.record(Object.fromEntries(params('query').map((p) => [p.name, queryValues(p)]))), extraQuery)
    .map(([values, extra]) => {
      const pairs = Object.entries(values).flatMap(([name, list]) =>
        (list ?? []).map((v) => [name, v] as const),
      )
      if (extra) pairs.push(extra)
      return pairs.length > 0
        ? `?${pairs.map(([n, v]) => `${percentEncode(n)}=${percentEncode(v)}`).join('&')}`
        : ''
    })

  const authorization = hostile
    ? route.secured
      ? hostileAuthorization(context)
      : fc.option(hostileAuthorization(context), { freq: 3, nil: undefined })
    : route.secured
      ? bearerTokens(context)
      : fc.constant(undefined)
  const declaredHeaders = fc.record(
    Object.fromEntries(
      params('header').map((p) => [
        p.name,
        fc.option(
          hostile
            ? fc.oneof(validString(p.schema, context), headerText, fc.constantFrom(...SQL_INJECTION))
            : validString(p.schema, context),
          { nil: undefined },
        ),
      ]),
    ),
  )
  const requestId = hostile ? fc.option(headerText, { freq: 5, nil: undefined }) : fc.constant(undefined)
  const headers = fc.tuple(authorization, declaredHeaders, requestId).map(([auth, declared, id]) => {
    const result: Record<string, string> = {}
    if (auth !== undefined) result.authorization = auth
    for (const [name, value] of Object.entries(declared)) if (value !== undefined) result[name] = value
    if (id !== undefined) result['x-request-id'] = id
    return result
  })

  const declaredBody = route.body
  let body: fc.Arbitrary<{ contentType?: string; body?: string }>
  if (declaredBody) {
    const encoded = jsonValue(declaredBody.schema, context, mode).map((value) => ({
      contentType: declaredBody.contentType,
      body: encodeBody(declaredBody.contentType, value),
    }))
    body = hostile
      ? fc.oneof(
          { weight: 6, arbitrary: encoded },
          {
            weight: 2,
            arbitrary: fc
              .tuple(fc.constantFrom(...OTHER_CONTENT_TYPES), jsonValue(declaredBody.schema, context, mode))
              .map(([contentType, value]) => ({ contentType, body: encodeBody(contentType, value) })),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              {},
              { contentType: declaredBody.contentType },
              { contentType: declaredBody.contentType, body: '' },
            ),
          },
        )
      : encoded
  } else if (route.method === 'GET' || !hostile) {
    body = fc.constant({})
  } else {
    body = fc.oneof(
      fc.constant({}),
      fc.constantFrom(...OTHER_CONTENT_TYPES).map((contentType) => ({ contentType, body: '{}' })),
      jsonValue({}, context, mode).map((value) => ({
        contentType: 'application/json',
        body: JSON.stringify(value),
      })),
    )
  }

  return fc.tuple(path, query, headers, body).map(([p, q, h, b]) => ({
    method: route.method,
    path: p + q,
    headers: b.contentType ? { ...h, 'content-type': b.contentType } : h,
    ...(b.body !== undefined ? { body: b.body } : {}),
    hostile: true,
  }))
}

/** The request as text, for failure messages and for telling echoed input from leaks. */
export function describeRequest(request: DrillRequest, bodyLimit = Number.POSITIVE_INFINITY): string {
  const headers = Object.entries(request.headers ?? {})
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n')
  return `${request.method} ${request.path}\n${headers}\n\n${String(request.body ?? '').slice(0, bodyLimit)}`
}
