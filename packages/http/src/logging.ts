// Production logging: JSON lines (pino), secrets redacted, and one line per
// request instead of Fastify's two (request + response): on a small machine the
// default pair costs about a third of a DB-read endpoint's throughput.
import { randomUUID } from 'node:crypto'
import { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify'
import type { TrustProxy } from './config.js'

export function loggerOptions(options: { level: string; name: string }): FastifyServerOptions['logger'] {
  return {
    level: options.level,
    name: options.name,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.password',
        '*.password_hash',
        '*.passwordHash',
        '*.access_token',
      ],
      censor: '[redacted]',
    },
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
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Keep-alive connections are closed on shutdown once their request is done.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }
}

export function registerRequestLogging(app: FastifyInstance, mode: 'all' | 'errors' | 'none'): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  if (mode === 'none') return
  app.addHook('onResponse', async (request, reply) => {
    // Probes (/healthz, /readyz) would drown the log; they opt out per route.
    if ((request.routeOptions.config as { requestLog?: boolean }).requestLog === false) return
    const status = reply.statusCode
    if (mode === 'errors' && status < 400) return
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info'
    request.log[level](
      {
        method: request.method,
        url: request.url,
        statusCode: status,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    )
  })
}
