// The Fastify instance every service starts from: shared options, the TypeBox type
// provider, validation, the error shape, request logging, lifecycle (health,
// readiness, drain), the docs, and the service's database (app.db, with its own
// readiness checks). A service's buildApp() calls this, then registers its own
// plugins and routes, so tests and production build the very same instance.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions } from 'fastify'
import type { ServiceConfig } from './config.js'
import { databasePlugin } from './database-plugin.js'
import { type DocsOptions, registerDocs } from './docs.js'
import { documentKitErrors } from './documented-errors.js'
import { errorHandler, notFoundHandler } from './errors.js'
import { lifecyclePlugin } from './lifecycle.js'
import { baseServerOptions, loggerOptions, registerRequestLogging } from './logging.js'
import { metricsPlugin } from './metrics.js'
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
  const app = Fastify(
    baseServerOptions({
      bodyLimit: config.bodyLimit,
      trustProxy: config.trustProxy,
      logger: options.logger ?? loggerOptions({ level: config.logLevel, name: options.name }),
    }),
  ).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  // JSON only; a route that takes a form (OAuth2's token endpoint) adds its own parser.
  app.removeContentTypeParser('text/plain')
  registerRequestLogging(app, config.logRequests)
  // Before every route (its hook counts them all); /metrics is hidden from the docs.
  await app.register(metricsPlugin, { enabled: config.metricsEnabled })
  documentKitErrors(app, {
    bearerSecurity: Object.keys(options.docs.securitySchemes ?? {}).map((name) => ({ [name]: [] })),
  })
  // Docs first: @fastify/swagger only sees routes registered after it.
  await registerDocs(app, options.docs)
  await app.register(lifecyclePlugin)
  await app.register(databasePlugin, {
    name: options.name,
    url: config.databaseUrl,
    poolMax: config.dbPoolMax,
    preparedStatements: config.dbPreparedStatements,
    migrations: options.migrations,
  })
  return app
}

export type ServiceApp = Awaited<ReturnType<typeof createServiceApp>>
