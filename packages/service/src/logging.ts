// Production logging: JSON lines (pino), secrets redacted, and one line per
// request instead of Fastify's two (request + response): on a small machine the
// default pair costs about a third of a DB-read endpoint's throughput.
import { randomUUID } from 'node:crypto'
import { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify'
import type { TrustProxy } from './config.js'
import { turnBatchedStdout } from './log-stream.js'
import { requestLineWriter } from './request-line.js'
import { isUuid } from './uuid.js'

// Where a secret could sit in what the services log: request headers, a user's
// fields, a failed query's parameters. Named paths only: one wildcard path
// ('*.password') made every log line cost 5 µs more (pino checks each key).
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'password',
  'passwordHash',
  'password_hash',
  'access_token',
  'user.password',
  'user.passwordHash',
  'user.password_hash',
  'err.params',
]

/**
 * pino on standard output, the lines of one event-loop turn in one write
 * (log-stream.ts). Batching lines for longer (pino's minLength) saved a DB-read
 * endpoint about 4% more of its CPU, but a process killed by SIGKILL or the OOM
 * killer would take its last lines, the ones that say why, with it.
 * `stream` replaces standard output (tests).
 */
export function loggerOptions(
  options: { level: string; name: string },
  stream?: { write(line: string): void },
): FastifyServerOptions['logger'] {
  return {
    level: options.level,
    name: options.name,
    stream: stream ?? turnBatchedStdout(),
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  }
}

/** Fastify options shared by every service (request ids, body limit, logging). */
export function baseServerOptions(options: {
  bodyLimit: number
  trustProxy: TrustProxy
  logger: FastifyServerOptions['logger']
}): FastifyServerOptions {
  return {
    logger: options.logger,
    trustProxy: options.trustProxy,
    bodyLimit: options.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    // A caller's X-Request-Id becomes the request's log id only when it is a UUID: any
    // other value (a forged log line, a megabyte, a colliding id) is replaced.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && isUuid(given) ? given.toLowerCase() : randomUUID()
    },
    // Keep-alive connections are closed on shutdown once their request is done.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }
}

// Callback-style hooks: they run on every request, and an async hook costs a promise each.
export function registerRequestLogging(app: FastifyInstance, mode: 'all' | 'errors' | 'none'): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id)
    done(null, payload)
  })
  if (mode === 'none') return
  const writeLine = requestLineWriter(app.log)
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode
    // Probes (/healthz, /readyz) would drown the log; they opt out per route.
    const quiet =
      (request.routeOptions.config as { requestLog?: boolean }).requestLog === false ||
      (mode === 'errors' && status < 400)
    if (!quiet) writeLine(request, reply, status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info')
    done()
  })
}
