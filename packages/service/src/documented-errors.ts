// Completes every route's documented errors with those the kit itself answers, so a
// route declares only its own (errors.responses('USER_NOT_FOUND')): a body can be
// malformed, too large or of the wrong type; any input can fail validation; a route
// behind app.authenticate answers 401 NOT_AUTHENTICATED or INVALID_TOKEN (and gets the
// bearer security requirement; one that also runs requireScope(scope) answers 403
// INSUFFICIENT_SCOPE and its security asks for that scope); and any API route can meet an unexpected error, the
// start gate or the database's absence. Runs as routes are added, before the docs
// plugin reads them.
import type { FastifyInstance, RouteOptions } from 'fastify'
import type { OpenAPIV3_1 } from 'openapi-types'
import type { TSchema } from 'typebox'
import { requiredScopeOf } from './bearer/bearer-auth.js'
import { KIT_ERRORS, type KitErrorCode, withCodes } from './error-codes.js'
import { ALWAYS_OPEN } from './lifecycle.js'

const BODY_ERRORS: KitErrorCode[] = [
  'MALFORMED_JSON',
  'INVALID_CONTENT_LENGTH',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
]
const SERVER_ERRORS: KitErrorCode[] = ['INTERNAL_ERROR', 'SERVICE_STARTING', 'DB_UNAVAILABLE', 'DB_TIMEOUT']

interface RouteSchema {
  hide?: boolean
  body?: unknown
  querystring?: unknown
  params?: unknown
  headers?: unknown
  security?: unknown
  response?: Record<string | number, TSchema>
}

export function documentKitErrors(
  app: FastifyInstance,
  options: { securitySchemes: Record<string, OpenAPIV3_1.SecuritySchemeObject> },
): void {
  // Every scheme is an alternative; the OAuth2 ones list the scope (the scheme types
  // that have scopes), so Swagger UI's Authorize dialog offers it for the operation.
  const security = (scopes: string[]) =>
    Object.entries(options.securitySchemes).map(([name, scheme]) => ({
      [name]: scheme.type === 'oauth2' ? scopes : [],
    }))
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema as RouteSchema | undefined
    if (!schema || schema.hide) return
    const codes: KitErrorCode[] = []
    if (schema.body) codes.push(...BODY_ERRORS)
    if (schema.body || schema.querystring || schema.params || schema.headers) codes.push('VALIDATION_FAILED')
    if (usesAuthenticate(app, route)) {
      codes.push('NOT_AUTHENTICATED', 'INVALID_TOKEN')
      const scopes = hooksOf(route).flatMap((hook) => requiredScopeOf(hook) ?? [])
      if (scopes.length > 0) codes.push('INSUFFICIENT_SCOPE')
      schema.security ??= security(scopes)
    }
    if (!ALWAYS_OPEN.test(route.url)) codes.push(...SERVER_ERRORS)
    if (codes.length === 0) return
    schema.response ??= {}
    const response = schema.response
    for (const status of new Set(codes.map((code) => KIT_ERRORS[code].status))) {
      response[status] = withCodes(
        response[status],
        status,
        codes.filter((code) => KIT_ERRORS[code].status === status),
      )
    }
  })
}

function usesAuthenticate(app: FastifyInstance, route: RouteOptions): boolean {
  if (!app.hasDecorator('authenticate')) return false
  return hooksOf(route).includes(app.authenticate as never)
}

function hooksOf(route: RouteOptions): unknown[] {
  return route.onRequest === undefined ? [] : [route.onRequest].flat()
}
