// The Fastify instance every service starts from: shared options, the TypeBox type
// provider, validation, the error shape, request logging, lifecycle (health,
// readiness, drain), the docs, and the service's database (app.db, with its own
// readiness checks). A service's buildApp() calls this, then registers its own
// plugins and routes, so tests and production build the very same instance.

import type { Server } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyHttpOptions, type FastifyServerOptions } from 'fastify'
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts, type ServiceConfig } from './config.js'
import { databasePlugin } from './database-plugin.js'
import { type DocsOptions, registerDocs } from './docs.js'
import { documentKitErrors } from './documented-errors.js'
import { errorHandler, notFoundHandler } from './errors.js'
import { lifecyclePlugin } from './lifecycle.js'
import { baseServerOptions, loggerOptions, registerRequestLogging } from './logging.js'
import { metricsPlugin } from './metrics.js'
import { registerSecurityHeaders } from './security-headers.js'
import { sharedSerializerFactory } from './serialization.js'
import { createValidatorCompiler } from './validation.js'

export interface ServiceAppOptions {
  name: string
  config: ServiceConfig
  /** The service's schema and migrations folder (its db/migrations.ts). */
  migrations: { schema: string; folder: string }
  /** Overrides the production logger (tests pass false or a capturing stream). */
  logger?: FastifyServerOptions['logger']
  docs: DocsOptions
}

export async function createServiceApp(options: ServiceAppOptions) {
  const { config } = options
  const app = Fastify({
    ...baseServerOptions({
      bodyLimit: config.bodyLimit,
      trustProxy: config.trustProxy,
      logger: options.logger ?? loggerOptions({ level: config.logLevel, name: options.name }),
    }),
    ...slowClientLimits(config.httpTimeouts ?? DEFAULT_HTTP_TIMEOUTS),
    schemaController: { compilersFactory: { buildSerializer: sharedSerializerFactory } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  // JSON only; a route that takes a form (OAuth2's token endpoint) adds its own parser.
  app.removeContentTypeParser('text/plain')
  registerRequestLogging(app, config.logRequests)
  // Before every route, 404s and the docs included (which replace the CSP with their own).
  await registerSecurityHeaders(app)
  // Before every route (its hook counts them all); /metrics is hidden from the docs.
  await app.register(metricsPlugin, { enabled: config.metricsEnabled })
  documentKitErrors(app, { securitySchemes: options.docs.securitySchemes ?? {} })
  // Docs first: @fastify/swagger only sees routes registered after it.
  await registerDocs(app, options.docs)
  await app.register(lifecyclePlugin)
  await app.register(databasePlugin, {
    name: options.name,
    url: config.databaseUrl,
    poolMax: config.dbPoolMax,
    pipelineConnections: config.dbPipelineConnections,
    preparedStatements: config.dbPreparedStatements,
    migrations: options.migrations,
  })
  return app
}

export type ServiceApp = Awaited<ReturnType<typeof createServiceApp>>

/**
 * Node's limits on slow clients (Fastify hands `http` to http.createServer): a client
 * that trickles its headers or body gets a 408 and the connection is closed, instead of
 * holding a socket (and a slot in every proxy in front) for as long as it likes.
 * Fastify's own default is no request timeout at all.
 */
function slowClientLimits(timeouts: HttpTimeouts): FastifyHttpOptions<Server> {
  return {
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      // How often Node checks those two limits: every 30 s by default, which would let a
      // 10 s limit hold for 40 s. A pass over the open connections is cheap.
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(timeouts.headersMs / 4))),
    },
  }
}
