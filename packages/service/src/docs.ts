// FastAPI-grade docs: the OpenAPI 3.1 document generated from the route schemas at
// /openapi.json, Swagger UI at /docs (every asset served locally), / -> /docs.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { OpenAPIV3_1 } from 'openapi-types'

export interface DocsOptions {
  title: string
  version: string
  description: string
  tags?: { name: string; description: string }[]
  securitySchemes?: Record<string, OpenAPIV3_1.SecuritySchemeObject>
}

// In a bundled service (scripts/bundle-service.mjs) Swagger UI's assets sit in
// static/ beside the bundle; unbundled, the package finds its own.
function bundledSwaggerAssets(): string | undefined {
  const candidate = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static')
  return existsSync(path.join(candidate, 'swagger-ui-bundle.js')) ? candidate : undefined
}

export async function registerDocs(app: FastifyInstance, options: DocsOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, version: options.version, description: options.description },
      tags: options.tags ?? [],
      components: { securitySchemes: options.securitySchemes ?? {} },
    },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    baseDir: bundledSwaggerAssets(),
    uiConfig: {
      persistAuthorization: true,
      displayRequestDuration: true,
      tryItOutEnabled: true,
      // The default validator badge is an image from the internet.
      validatorUrl: null,
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs', 302))
}
