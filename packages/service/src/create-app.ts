// The Fastify instance every service starts from: shared options, the TypeBox type
// provider, validation, the error shape, request logging, lifecycle (health and
// readiness) and the docs. A service's buildApp() calls this, then registers its
// own plugins and routes, so tests and production build the very same instance.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions } from 'fastify'
import type { TrustProxy } from './config.js'
import { type DocsOptions, registerDocs } from './docs.js'
import { errorHandler, notFoundHandler } from './errors.js'
import { lifecyclePlugin, type ReadinessCheck } from './lifecycle.js'
import { baseServerOptions, loggerOptions, registerRequestLogging } from './logging.js'
import { createValidatorCompiler } from './validation.js'

export interface ServiceAppOptions {
  name: string
  bodyLimit: number
  logLevel: string
  logRequests: 'all' | 'errors' | 'none'
  /** Fastify's trustProxy (see TRUST_PROXY); default false. */
  trustProxy?: TrustProxy
  /** Overrides the production logger (tests pass false or a capturing stream). */
  logger?: FastifyServerOptions['logger']
  docs: DocsOptions
  readiness: ReadinessCheck[]
}

export async function createServiceApp(options: ServiceAppOptions) {
  const app = Fastify(
    baseServerOptions({
      bodyLimit: options.bodyLimit,
      trustProxy: options.trustProxy ?? false,
      logger: options.logger ?? loggerOptions({ level: options.logLevel, name: options.name }),
    }),
  ).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler())
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  // JSON only; a route that takes a form (OAuth2's token endpoint) adds its own parser.
  app.removeContentTypeParser('text/plain')
  registerRequestLogging(app, options.logRequests)
  // Docs first: @fastify/swagger only sees routes registered after it.
  await registerDocs(app, options.docs)
  await app.register(lifecyclePlugin, { checks: options.readiness })
  return app
}

export type ServiceApp = Awaited<ReturnType<typeof createServiceApp>>
