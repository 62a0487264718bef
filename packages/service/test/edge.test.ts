// What every service answers at its edge, whatever its routes: security headers (the
// API's and the docs' own Content-Security-Policy), the Cache-Control rule, limits on
// slow clients, whose X-Forwarded-For is believed, and which UUID forms an id may take.
import { mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { migrate } from '@app/migrations'
import { writeMigrationsFolder } from '@app/migrations/testing'
import { sql } from 'drizzle-orm'
import { Type } from 'typebox'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import {
  authSecuritySchemes,
  ConfigError,
  createServiceApp,
  IdParams,
  loadEnv,
  type ServiceApp,
  type ServiceConfig,
  serviceEnv,
  toServiceConfig,
} from '../src/index.js'
import { LINGER_BYTES, LINGER_MS } from '../src/lingering-close.js'
import { SWAGGER_UI_LOGO_STYLE } from '../src/security-headers.js'

const require = createRequire(import.meta.url)

let database: ScratchDatabase
const migrationsFolder = path.join(mkdtempSync(path.join(tmpdir(), 'service-edge-')), 'drizzle')
const apps: ServiceApp[] = []

beforeAll(async () => {
  const run = inject('testRun')
  database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_edge` })
  writeMigrationsFolder(migrationsFolder, [{ statements: ['CREATE TABLE "demo"."items" ("id" uuid);'] }])
  await migrate({ url: database.url, schema: 'demo', migrationsFolder })
  return async () => {
    await Promise.all(apps.map((app) => app.close()))
    await database.drop()
  }
})

const schema = Type.Object(serviceEnv({ port: 1 }))

async function buildApp(
  env: Record<string, string> = {},
  overrides: Partial<ServiceConfig> = {},
  ready = true,
) {
  const app = await createServiceApp({
    name: 'demo',
    config: {
      ...toServiceConfig(loadEnv(schema, { DATABASE_URL: database.url, ...env })),
      logLevel: 'silent',
      logRequests: 'none',
      ...overrides,
    },
    migrations: { schema: 'demo', folder: migrationsFolder },
    logger: false,
    docs: {
      title: 'Demo',
      version: '1',
      description: 'edge',
      securitySchemes: authSecuritySchemes('http://localhost:5008/auth/token'),
    },
  })
  app.get('/me', async () => ({ name: 'me' }))
  app.get('/public', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60')
    return { name: 'public' }
  })
  app.get('/ip', async (request) => ({ ip: request.ip }))
  app.get('/items/:id', { schema: { params: IdParams() } }, async (request) => {
    const { rows } = await app.db.execute<{ id: string }>(sql`SELECT ${request.params.id}::uuid AS id`)
    return { id: rows[0]?.id }
  })
  app.post('/echo', async (request) => ({ got: request.body }))
  if (ready) app.lifecycle.markReady()
  apps.push(app)
  return app
}

const DOCUMENT_ONLY_HEADERS = [
  'cross-origin-opener-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
]

let app: ServiceApp
beforeAll(async () => {
  app = await buildApp()
})

describe('security headers on every response', () => {
  test('an API response: a policy that loads nothing, never framed, never sniffed', async () => {
    for (const url of ['/me', '/nope', '/openapi.json', '/healthz']) {
      const res = await app.inject(url)
      expect(res.headers['content-security-policy'], url).toBe(
        "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
      )
      expect(res.headers['x-frame-options'], url).toBe('DENY')
      expect(res.headers['x-content-type-options'], url).toBe('nosniff')
      expect(res.headers['referrer-policy'], url).toBe('no-referrer')
      expect(res.headers['strict-transport-security'], url).toBe('max-age=31536000')
      expect(res.headers['cross-origin-resource-policy'], url).toBe('same-origin')
      // What acts only on a page a browser renders, or only in browsers long gone: HTML answers only.
      for (const name of DOCUMENT_ONLY_HEADERS) expect(res.headers[name], `${url} ${name}`).toBeUndefined()
    }
  })

  test("an HTML answer (Swagger UI's page) also carries helmet's headers for documents", async () => {
    const res = await app.inject('/docs/')
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin')
    expect(res.headers['origin-agent-cluster']).toBe('?1')
    expect(res.headers['x-dns-prefetch-control']).toBe('off')
    expect(res.headers['x-download-options']).toBe('noopen')
    expect(res.headers['x-permitted-cross-domain-policies']).toBe('none')
    expect(res.headers['x-xss-protection']).toBe('0')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })

  test('/docs: only its own files, the API, and the origin its OAuth2 login form posts to', async () => {
    for (const url of ['/docs/', '/docs/static/swagger-initializer.js']) {
      const res = await app.inject(url)
      expect(res.statusCode, url).toBe(200)
      const policy = String(res.headers['content-security-policy'])
      const directives = Object.fromEntries(
        policy.split(';').map((d) => {
          const [name, ...values] = d.trim().split(/\s+/)
          return [name, values]
        }),
      )
      expect(directives['default-src']).toEqual(["'none'"])
      expect(directives['script-src']).toEqual(["'self'"])
      // Swagger UI's logo's inline <style>, by its hash: no 'unsafe-inline'.
      expect(directives['style-src']).toEqual([
        "'self'",
        "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
      ])
      expect(directives['connect-src']).toEqual(["'self'", 'http://localhost:5008'])
      expect(directives['frame-ancestors']).toEqual(["'none'"])
      expect(policy).not.toContain('unsafe')
      expect(res.headers['x-frame-options']).toBe('DENY')
    }
  })

  test("the inline style the docs' policy allows by hash is the one the installed Swagger UI has", () => {
    const preset = readFileSync(
      path.join(
        path.dirname(require.resolve('@fastify/swagger-ui')),
        'static',
        'swagger-ui-standalone-preset.js',
      ),
      'utf8',
    )
    expect(preset).toContain(`"style",null,"${SWAGGER_UI_LOGO_STYLE}"`)
  })

  test('/docs keeps no authorization in the browser (persistAuthorization is off)', async () => {
    const init = await app.inject('/docs/static/swagger-initializer.js')
    expect(init.body).toContain('"persistAuthorization":false')
  })
})

describe('Cache-Control', () => {
  test('no-store (and Pragma: no-cache) on every answer that does not set its own', async () => {
    for (const url of ['/me', '/nope', '/items/not-a-uuid']) {
      const res = await app.inject(url)
      expect([res.headers['cache-control'], res.headers.pragma], url).toEqual(['no-store', 'no-cache'])
    }
    expect((await app.inject('/public')).headers['cache-control']).toBe('public, max-age=60')
  })

  test('always no-store on an answer to a request carrying credentials', async () => {
    const res = await app.inject({ url: '/public', headers: { authorization: 'Bearer x' } })
    expect([res.headers['cache-control'], res.headers.pragma]).toEqual(['no-store', 'no-cache'])
  })
})

describe('slow clients', () => {
  const slow = {
    HTTP_HEADERS_TIMEOUT_MS: '300',
    HTTP_REQUEST_TIMEOUT_MS: '600',
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '400',
  }
  let port: number

  beforeAll(async () => {
    const listening = await buildApp(slow)
    await listening.listen({ port: 0, host: '127.0.0.1' })
    port = (listening.server.address() as { port: number }).port
  })

  /** Opens a connection, writes `chunks` one every `everyMs`, resolves with all it read once closed. */
  function trickle(chunks: string[], everyMs: number): Promise<{ text: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now()
      const socket = connect(port, '127.0.0.1')
      let text = ''
      let timer: NodeJS.Timeout | undefined
      socket.setEncoding('utf8')
      socket.on('data', (data) => {
        text += data
      })
      socket.on('error', () => {})
      socket.on('close', () => {
        clearInterval(timer)
        resolve({ text, ms: Date.now() - started })
      })
      socket.on('connect', () => {
        const queue = [...chunks]
        timer = setInterval(() => {
          const next = queue.shift()
          if (next === undefined) return
          if (!socket.destroyed) socket.write(next)
        }, everyMs)
      })
      setTimeout(() => {
        socket.destroy()
        reject(new Error(`still open after 10 s; read: ${text}`))
      }, 10_000)
    })
  }

  test('a client trickling its headers gets a 408 and the connection is closed', async () => {
    const header = `GET /me HTTP/1.1\r\nHost: x\r\n${'X-Slow: a\r\n'.repeat(100)}\r\n`
    const { text, ms } = await trickle(header.match(/.{1,5}/gs) ?? [], 50)
    expect(text).toMatch(/^HTTP\/1\.1 408 /)
    expect(ms).toBeLessThan(3000)
  })

  test('a client trickling its body gets a 408 and the connection is closed', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(200) })
    const head = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
    const { text, ms } = await trickle([head, ...(body.match(/.{1,2}/gs) ?? [])], 50)
    expect(text).toMatch(/^HTTP\/1\.1 408 /)
    expect(ms).toBeLessThan(3000)
  })

  test('a client sending at once is answered; an idle keep-alive connection is closed after its timeout', async () => {
    const { text, ms } = await trickle(['GET /me HTTP/1.1\r\nHost: x\r\n\r\n'], 1)
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    expect(ms).toBeGreaterThanOrEqual(350)
    expect(ms).toBeLessThan(3000)
  })

  test('the timeouts are read from the environment, the headers limit within the request limit', () => {
    expect(toServiceConfig(loadEnv(schema, { DATABASE_URL: database.url, ...slow })).httpTimeouts).toEqual({
      headersMs: 300,
      requestMs: 600,
      keepAliveMs: 400,
    })
    expect(toServiceConfig(loadEnv(schema, { DATABASE_URL: database.url })).httpTimeouts).toEqual({
      headersMs: 10_000,
      requestMs: 30_000,
      keepAliveMs: 72_000,
    })
    expect(() =>
      toServiceConfig(
        loadEnv(schema, {
          DATABASE_URL: database.url,
          HTTP_HEADERS_TIMEOUT_MS: '5000',
          HTTP_REQUEST_TIMEOUT_MS: '1000',
        }),
      ),
    ).toThrow(ConfigError)
    expect(() => loadEnv(schema, { DATABASE_URL: database.url, HTTP_REQUEST_TIMEOUT_MS: '0' })).toThrow(
      /HTTP_REQUEST_TIMEOUT_MS must be >= 100/,
    )
  })
})

describe('a body refused before it is all read (RFC 9112 §9.6: close in stages)', () => {
  let port: number
  const limit = 64 * 1024
  // More than the kernel's socket buffers hold: the client is still writing when the 413 comes.
  const huge = 'x'.repeat(8 * 1024 * 1024)
  /** A request's head and the start of one chunk of `size` bytes. */
  const chunkedHead = (connection: string, size = huge.length) =>
    `POST /echo HTTP/1.1\r\nHost: x\r\nConnection: ${connection}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n`

  /** When the service closed each of its connections, in the order they were opened. */
  const serverSideClosed: Promise<number>[] = []

  beforeAll(async () => {
    const listening = await buildApp({ BODY_LIMIT_BYTES: String(limit) })
    await listening.listen({ port: 0, host: '127.0.0.1' })
    port = (listening.server.address() as { port: number }).port
    listening.server.on('connection', (socket: Socket) => {
      serverSideClosed.push(new Promise((resolve) => socket.on('close', () => resolve(Date.now()))))
    })
  })

  /**
   * A client still uploading when the answer comes: it writes `first`, and `rest` only once
   * the service has answered (and, without a staged close, closed), reading nothing until
   * both are written. Resolves with what it read, or the error that ended it.
   */
  function upload(
    first: string,
    rest: string,
    to = port,
  ): Promise<{ text: string; error?: string; ms: number }> {
    return new Promise((resolve) => {
      const started = Date.now()
      const socket = connect(to, '127.0.0.1')
      let text = ''
      socket.setEncoding('utf8')
      socket.on('data', (data) => {
        text += data
      })
      socket.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ text, error: error.code, ms: Date.now() - started }),
      )
      socket.on('close', () => resolve({ text, ms: Date.now() - started }))
      // A connection left waiting on its unread body would stay open until the request timeout.
      const guard = setTimeout(() => {
        resolve({ text, error: 'still open after 10 s', ms: Date.now() - started })
        socket.destroy()
      }, 10_000)
      socket.on('close', () => clearTimeout(guard))
      socket.on('connect', async () => {
        socket.pause()
        socket.write(first)
        await new Promise((wait) => setTimeout(wait, 300))
        socket.write(rest, () => {})
        await new Promise((wait) => setTimeout(wait, 300))
        socket.resume()
      })
    })
  }

  test('a chunked body over the limit: the client still sending reads its 413, and the connection closes', async () => {
    const { text, error } = await upload(
      chunkedHead('close') + huge.slice(0, 2 * limit),
      `${huge.slice(2 * limit)}\r\n0\r\n\r\n`,
    )
    expect(error).toBeUndefined()
    expect(text).toMatch(/^HTTP\/1\.1 413 /)
    expect(text).toMatch(/\r\nconnection: close\r\n/i)
    expect(text).toContain('"code":"BODY_TOO_LARGE"')
  })

  test('503 while starting, answered before the body is read: the client still sending reads it too', async () => {
    // What Fastify does not close on its own: an answer from an onRequest hook (so is a refused token).
    const starting = await buildApp({ BODY_LIMIT_BYTES: String(limit) }, {}, false)
    await starting.listen({ port: 0, host: '127.0.0.1' })
    const { text, error } = await upload(
      chunkedHead('keep-alive') + huge.slice(0, 2 * limit),
      `${huge.slice(2 * limit)}\r\n0\r\n\r\n`,
      (starting.server.address() as { port: number }).port,
    )
    expect(error).toBeUndefined()
    expect(text).toMatch(/^HTTP\/1\.1 503 /)
    expect(text).toMatch(/\r\nconnection: close\r\n/i)
  })

  test('the same on a keep-alive connection: closed after the 413', async () => {
    const { text, error, ms } = await upload(
      chunkedHead('keep-alive') + huge.slice(0, 2 * limit),
      `${huge.slice(2 * limit)}\r\n0\r\n\r\n`,
    )
    expect(error).toBeUndefined()
    expect(text).toMatch(/^HTTP\/1\.1 413 /)
    expect(text).toMatch(/\r\nconnection: close\r\n/i)
    expect(ms).toBeLessThan(5000)
  })

  const announced = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n{}`

  /**
   * Writes `announced` on a new connection and resolves once the answer and the service's FIN
   * are read (then the client closes its side too, unless half-open), with when the service
   * closed its own.
   */
  async function sendAnnounced(allowHalfOpen: boolean) {
    const opened = serverSideClosed.length
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen })
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (data) => {
      text += data
    })
    const written = Date.now()
    const ended = new Promise((resolve) => socket.on(allowHalfOpen ? 'end' : 'close', resolve))
    socket.write(announced)
    await ended
    return { socket, text, written, serviceClosed: serverSideClosed[opened]! }
  }

  test('a Content-Length over the limit, its body never sent: 413 at once, closed once the client has read it', async () => {
    const { text, written, serviceClosed } = await sendAnnounced(false)
    expect(text).toMatch(/^HTTP\/1\.1 413 /)
    // The client read the answer and the service's FIN and closed its side; the service then
    // closed at once, not when the linger ran out.
    expect((await serviceClosed) - written).toBeLessThan(LINGER_MS)
  })

  test('a client that never closes its side is closed when the linger ends', async () => {
    const { socket, text, written, serviceClosed } = await sendAnnounced(true)
    expect(text).toMatch(/^HTTP\/1\.1 413 /)
    // The client's side stays open: the service's own socket tells when it let go.
    const closedAt = await serviceClosed
    socket.destroy()
    expect(closedAt - written).toBeGreaterThanOrEqual(LINGER_MS - 50)
    expect(closedAt - written).toBeLessThan(LINGER_MS + 5000)
  })

  test('a client that goes on sending is cut off after LINGER_BYTES', async () => {
    // Half-open allowed: the service's FIN does not end its side, it goes on writing.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    socket.on('data', () => {})
    let written = 0
    const block = Buffer.alloc(64 * 1024, 'x')
    socket.on('error', () => {})
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    socket.write(chunkedHead('close', 1024 * 1024 * 1024))
    // Writes as fast as the connection takes them until it is closed under it.
    while (!socket.destroyed && written < 256 * 1024 * 1024) {
      written += block.length
      if (!socket.write(block))
        await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed])
    }
    // Ended by the 256 MB rather than by the service: then the assertion below fails.
    socket.destroy()
    await closed
    // Well short of what 2 s of loopback would carry, had the linger no limit in bytes.
    expect(written).toBeLessThan(LINGER_BYTES + 32 * 1024 * 1024)
    expect(written).toBeGreaterThan(LINGER_BYTES)
  })

  test('a request whose body was read keeps its connection open', async () => {
    const body = JSON.stringify({ a: 1 })
    const request = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    const socket = connect(port, '127.0.0.1')
    socket.setEncoding('utf8')
    let text = ''
    const answered = new Promise<void>((resolve) =>
      socket.on('data', (data) => {
        text += data
        if (text.endsWith('}')) resolve()
      }),
    )
    socket.write(request)
    await answered
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    expect(text).toMatch(/\r\nconnection: keep-alive\r\n/i)
    expect(socket.destroyed).toBe(false)
    socket.destroy()
  })
})

describe('a database URL that starts right but does not parse', () => {
  test.each([
    'postgres://auth_app:hunter2@db:99999/app',
    'postgres://auth_app:hunter2@db:port/app',
    'postgres://auth_app:hunter2@[::1/app',
    'postgresql://auth_app:hunter2@/app',
  ])('%s stops startup naming the variable, never showing the password', (url) => {
    for (const name of ['DATABASE_URL', 'MIGRATION_DATABASE_URL']) {
      let message = ''
      try {
        toServiceConfig(loadEnv(schema, { DATABASE_URL: database.url, [name]: url }))
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        message = (error as Error).message
      }
      expect(message).toContain(`${name} is not a valid URL`)
      expect(message).not.toContain('hunter2')
    }
  })
})

describe('TRUST_PROXY decides whose X-Forwarded-For is believed', () => {
  const forwarded = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' }

  test('false (the default): the peer address, whatever the header says', async () => {
    expect((await app.inject({ url: '/ip', headers: forwarded })).json().ip).toBe('127.0.0.1')
  })

  test('a hop count: the address that many proxies back, never one the client wrote before it', async () => {
    const behindOne = await buildApp({ TRUST_PROXY: '1' })
    expect((await behindOne.inject({ url: '/ip', headers: forwarded })).json().ip).toBe('198.51.100.7')
    const behindTwo = await buildApp({ TRUST_PROXY: '2' })
    expect((await behindTwo.inject({ url: '/ip', headers: forwarded })).json().ip).toBe('203.0.113.9')
  })

  test('proxy addresses: only their hops are skipped', async () => {
    const listed = await buildApp({ TRUST_PROXY: '127.0.0.1/32' })
    expect((await listed.inject({ url: '/ip', headers: forwarded })).json().ip).toBe('198.51.100.7')
    const other = await buildApp({ TRUST_PROXY: '10.0.0.0/8' })
    expect((await other.inject({ url: '/ip', headers: forwarded })).json().ip).toBe('127.0.0.1')
  })
})

describe('an id in a path is a canonical UUID: every other form PostgreSQL or ajv-formats reads is a 422', () => {
  const id = '0b8f6d5e-3c1a-4f7e-9d2b-6a4c8e1f2a3b'

  test.each([
    ['urn:uuid:', `urn:uuid:${id}`],
    ['braces', `{${id}}`],
    ['no hyphens', id.replaceAll('-', '')],
    ['hyphens every four digits', id.replaceAll('-', '').replace(/(.{4})(?!$)/g, '$1-')],
    ['braces, no hyphens', `{${id.replaceAll('-', '')}}`],
    ['surrounding spaces', ` ${id} `],
    ['one digit short', id.slice(0, -1)],
  ])('%s', async (_name, form) => {
    const res = await app.inject(`/items/${encodeURIComponent(form)}`)
    expect(res.statusCode, res.body).toBe(422)
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('params.id'),
    })
  })

  test('upper case is the same UUID (RFC 9562: case-insensitive on input)', async () => {
    const res = await app.inject(`/items/${id.toUpperCase()}`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().id).toBe(id)
  })
})
