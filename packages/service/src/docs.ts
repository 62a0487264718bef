// FastAPI-grade docs: the OpenAPI 3.1 document generated from the route schemas at
// /openapi.json, Swagger UI at /docs (every asset served locally), / -> /docs.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { OpenAPIV3_1 } from 'openapi-types'
import { docsContentSecurityPolicy } from './security-headers.js'

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

/** The origins of the OAuth2 flows' absolute URLs: where Swagger UI's login form posts (auth, from another service's page). */
function oauthOrigins(schemes: Record<string, OpenAPIV3_1.SecuritySchemeObject>): string[] {
  const urls = Object.values(schemes).flatMap((scheme) =>
    scheme.type === 'oauth2'
      ? Object.values(scheme.flows).flatMap((flow: Record<string, unknown>) =>
          ['tokenUrl', 'authorizationUrl', 'refreshUrl'].map((key) => flow[key]),
        )
      : [],
  )
  const origins = urls.filter((url): url is string => typeof url === 'string' && URL.canParse(url))
  return [...new Set(origins.map((url) => new URL(url).origin))]
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
  let docsPolicy: string | undefined
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    baseDir: bundledSwaggerAssets(),
    // Replaces the API's policy (security-headers.ts) on the docs' own routes; computed
    // once, at the first page (the hashes are known once the plugin is registered).
    transformStaticCSP: () => {
      docsPolicy ??= docsContentSecurityPolicy(app.swaggerCSP, oauthOrigins(options.securitySchemes ?? {}))
      return docsPolicy
    },
    uiConfig: {
      // Off: Swagger UI would keep the OAuth2 password form's username, password and
      // token in localStorage, readable by any script on the origin and left on the
      // machine after the tab is closed. A reload means logging in again.
      persistAuthorization: false,
      displayRequestDuration: true,
      tryItOutEnabled: true,
      // The default validator badge is an image from the internet.
      validatorUrl: null,
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs', 302))
}
