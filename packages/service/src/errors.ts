// One error shape everywhere: { statusCode, code, message, details }. `code` is
// stable and machine-readable (every code is defined in error-codes.ts or a
// service's registry); `message` says what to fix, naming the field.
// Validation failures are 422 (as FastAPI), malformed JSON 400, oversized bodies
// 413, an unreachable database 503, and a 5xx never carries a stack trace.
import { isTransientConnectionError } from '@app/db'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export interface FieldError {
  /** Where the field is: body, querystring, params or headers. */
  in: string
  /** Dotted path of the field, e.g. `price` or `items.0.name`. */
  field: string
  message: string
}

interface AjvIssue {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

export function toFieldError(context: string, issue: AjvIssue): FieldError {
  const path = issue.instancePath.split('/').filter(Boolean).map(decodePointer)
  if (issue.keyword === 'required') {
    path.push(String(issue.params.missingProperty))
    return { in: context, field: path.join('.'), message: 'is required' }
  }
  if (issue.keyword === 'additionalProperties') {
    path.push(String(issue.params.additionalProperty))
    return { in: context, field: path.join('.'), message: 'is not an accepted field' }
  }
  return { in: context, field: path.join('.') || '(root)', message: issue.message ?? 'is invalid' }
}

function decodePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~')
}

const CONTENT_ERRORS: Record<
  string,
  { statusCode: number; code: string; message: (e: FastifyError) => string }
> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    statusCode: 400,
    code: 'MALFORMED_JSON',
    message: () => 'request body is not valid JSON',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    statusCode: 400,
    code: 'MALFORMED_JSON',
    message: () => 'request body is empty but the content type is application/json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    statusCode: 413,
    code: 'BODY_TOO_LARGE',
    message: () => 'request body is too large',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    statusCode: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: () => 'unsupported content type; send application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    statusCode: 400,
    code: 'INVALID_CONTENT_LENGTH',
    message: () => 'Content-Length does not match the body',
  },
}

/** Drizzle wraps driver errors; look through `cause` for the pg error. */
function rootCauses(error: unknown): unknown[] {
  const chain: unknown[] = []
  for (let current = error; current && chain.length < 5; current = (current as { cause?: unknown }).cause) {
    chain.push(current)
  }
  return chain
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return rootCauses(error).some(
    (e) =>
      isTransientConnectionError(e) ||
      (e instanceof Error &&
        /timeout exceeded when trying to connect|Connection terminated unexpectedly/.test(e.message)),
  )
}

/**
 * The statement ran into the runtime role's statement_timeout (57014) or a
 * lock_timeout (55P03): the database is overloaded or a lock is held (a migration,
 * a long transaction); retrying later is the remedy.
 */
export function isDatabaseTimeout(error: unknown): boolean {
  return rootCauses(error).some((e) => {
    const code = (e as { code?: unknown }).code
    return code === '57014' || code === '55P03'
  })
}

export interface ErrorBody {
  statusCode: number
  code: string
  message: string
  details?: unknown
}

export function toErrorBody(error: FastifyError | ApiError | Error, request: FastifyRequest): ErrorBody {
  if (error instanceof ApiError) {
    return { statusCode: error.statusCode, code: error.code, message: error.message, details: error.details }
  }
  const fastifyError = error as FastifyError
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((issue) =>
      toFieldError(fastifyError.validationContext ?? 'body', issue as AjvIssue),
    )
    const first = details[0]!
    const more = details.length > 1 ? ` (and ${details.length - 1} more)` : ''
    return {
      statusCode: 422,
      code: 'VALIDATION_FAILED',
      message: `${first.in}.${first.field} ${first.message}${more}`,
      details,
    }
  }
  const known = fastifyError.code ? CONTENT_ERRORS[fastifyError.code] : undefined
  if (known) return { statusCode: known.statusCode, code: known.code, message: known.message(fastifyError) }
  if (isDatabaseUnavailable(error)) {
    return {
      statusCode: 503,
      code: 'DB_UNAVAILABLE',
      message: 'the database is unavailable; retry shortly',
    }
  }
  if (isDatabaseTimeout(error)) {
    return {
      statusCode: 503,
      code: 'DB_TIMEOUT',
      message: 'the database did not answer in time (statement or lock timeout); retry shortly',
    }
  }
  const status = fastifyError.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return {
      statusCode: status,
      code: status === 429 ? 'RATE_LIMITED' : 'BAD_REQUEST',
      message: error.message,
    }
  }
  return {
    statusCode: 500,
    code: 'INTERNAL_ERROR',
    message: 'internal error; the service log has the details under this request id',
    details: { requestId: request.id },
  }
}

/**
 * Drizzle's query errors carry the statement's parameters in their message and stack
 * (a password hash, an email): the log gets the statement and the driver's error,
 * never the values.
 */
function withoutQueryParams(error: Error): { err: Error; query?: string } {
  const failed = error as Error & { query?: unknown; params?: unknown }
  if (typeof failed.query !== 'string' || !Array.isArray(failed.params)) return { err: error }
  const cause = failed.cause instanceof Error ? failed.cause : new Error('the query failed')
  return { err: cause, query: failed.query }
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const body = toErrorBody(error, request)
  if (body.statusCode >= 500 && error instanceof ApiError) {
    // A deliberate answer (503 BUSY when shedding load, SERVICE_STARTING): expected
    // under a flood, so a warning without a stack, not one error report per request.
    request.log.warn({ code: body.code }, `${request.method} ${request.url} answered ${body.code}`)
  } else if (body.statusCode >= 500) {
    const logged = withoutQueryParams(error)
    request.log.error(logged, `${request.method} ${request.url} failed: ${logged.err.message}`)
  }
  if (body.statusCode === 503) reply.header('retry-after', '1')
  return reply.code(body.statusCode).send(body)
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({
    statusCode: 404,
    code: 'ROUTE_NOT_FOUND',
    message: `no route ${request.method} ${request.url.split('?')[0]}`,
  })
}
