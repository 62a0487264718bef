// The headers every response carries, from one place for every service: helmet's
// (no sniffing, no framing, no referrer, HSTS, no cross-origin reads), a
// Content-Security-Policy that lets an API response load and run nothing (the docs page
// has its own, docs.ts), and `Cache-Control: no-store` on whatever is personal or may be.
// Values are computed once here, never per request: helmet's middleware runs once at
// start on a recorder and every response gets the headers it set. (@fastify/helmet
// builds the middleware again for every request, its options parsed each time, in two
// onRequest hooks, one of them async: about 5 µs of a DB read's CPU in make bench.)
//
// helmet's headers that act only on a page a browser renders, or only in browsers and
// plug-ins long gone (OWASP's REST Security Cheat Sheet leaves them out for APIs), go on
// HTML answers only (Swagger UI's page): six fewer headers on every JSON answer, which
// every client parses and the service validates and writes (bench/README.md).
import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * An API answers JSON: nothing in it may load, run, submit or be framed, even when a
 * browser is tricked into rendering it as a page.
 */
const API_CSP_DIRECTIVES = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
}

/** helmet's options for headers that affect only a document (an HTML page): HTML answers only. */
const DOCUMENT_ONLY = [
  // Opener isolation and origin-keyed agent clusters: properties of a browsing context.
  'crossOriginOpenerPolicy',
  'originAgentCluster',
  // Prefetching the DNS names a page links to.
  'xDnsPrefetchControl',
  // Internet Explorer 8 opening downloads in the site's context.
  'xDownloadOptions',
  // Flash and Acrobat reading crossdomain.xml policies.
  'xPermittedCrossDomainPolicies',
  // Turns off the XSS auditor of old browsers (helmet sends 0).
  'xXssProtection',
] as const satisfies readonly (keyof HelmetOptions)[]

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  const options: HelmetOptions = {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP_DIRECTIVES },
    // X-Frame-Options for browsers that predate frame-ancestors.
    frameguard: { action: 'deny' },
    // Honoured only over HTTPS (a TLS-terminating proxy in front); not for subdomains,
    // which this service does not own.
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
  }
  const headers = helmetHeaders({
    ...options,
    ...Object.fromEntries(DOCUMENT_ONLY.map((name) => [name, false])),
  })
  const all = helmetHeaders(options)
  const documentHeaders = Object.fromEntries(Object.entries(all).filter(([name]) => !(name in headers)))
  // On every request, before its route runs, so a route (the docs' static files) may replace one.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
  // Callback-style and synchronous: it runs on every response (an async hook costs a promise each).
  app.addHook('onSend', (request, reply, payload, done) => {
    // The rule (docs/api.md "At the edge"): nothing is stored by a browser or a shared cache
    // unless the route says so (JWKS, Swagger UI's files), and never an answer to a
    // request that carried credentials. Pragma for HTTP/1.0 caches (RFC 6749 §5.1).
    if (request.headers.authorization !== undefined || !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store')
      reply.header('pragma', 'no-cache')
    }
    const type = reply.getHeader('content-type')
    if (typeof type === 'string' && type.startsWith('text/html')) reply.headers(documentHeaders)
    done(null, payload)
  })
}

/** The headers helmet's middleware sets with these options (none depends on the request). */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = value
    },
    // X-Powered-By: Fastify never sets it.
    removeHeader() {},
  }
  helmet(options)(
    {} as Parameters<ReturnType<typeof helmet>>[0],
    recorder as unknown as Parameters<ReturnType<typeof helmet>>[1],
    (error?: unknown) => {
      if (error) throw error
    },
  )
  return headers
}

/**
 * The one inline style Swagger UI's page has: the <style> inside its top bar's SVG logo
 * (swagger-ui-standalone-preset.js; @fastify/swagger-ui's published hashes do not list
 * it). Allowed by its hash, so no 'unsafe-inline'; a Swagger UI whose logo differs fails
 * the kit's test that finds this text in the installed preset.
 */
export const SWAGGER_UI_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}'
const SWAGGER_UI_LOGO_STYLE_HASH = `'sha256-${createHash('sha256').update(SWAGGER_UI_LOGO_STYLE).digest('base64')}'`

/**
 * Swagger UI's policy on /docs: its own files only (`hashes`: those of the inline
 * scripts and styles its page has, published by @fastify/swagger-ui), the API itself and
 * the origins its OAuth2 login form posts to (`connectOrigins`), never framed.
 */
export function docsContentSecurityPolicy(
  hashes: { script: string[]; style: string[] },
  connectOrigins: string[],
): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'none'"],
    'script-src': ["'self'", ...hashes.script],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", SWAGGER_UI_LOGO_STYLE_HASH, ...hashes.style],
    // Swagger UI's stylesheet draws its icons from data: URLs.
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", ...connectOrigins],
    'manifest-src': ["'self'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'object-src': ["'none'"],
  }
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ')
}
