import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import SwaggerParser from '@apidevtools/swagger-parser'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { migrate } from '@app/migrations'
import { writeMigrationsFolder } from '@app/migrations/testing'
import pg from 'pg'
import { Type } from 'typebox'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import {
  ApiError,
  createServiceApp,
  invalidSchemasIn,
  kitErrors,
  loadEnv,
  Page,
  PageQuery,
  type ServiceApp,
  type ServiceConfig,
  serviceEnv,
  toPage,
  toServiceConfig,
} from '../src/index.js'

let app: ServiceApp
let ready = true
let database: ScratchDatabase
const migrationsFolder = path.join(mkdtempSync(path.join(tmpdir(), 'service-kit-')), 'drizzle')

// The kit's own database: a real PostgreSQL, one migration applied to schema demo.
beforeAll(async () => {
  const run = inject('testRun')
  database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_kit` })
  writeMigrationsFolder(migrationsFolder, [{ statements: ['CREATE TABLE "demo"."items" ("id" integer);'] }])
  await migrate({ url: database.url, schema: 'demo', migrationsFolder })
  return () => database.drop()
})

function demoConfig(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    ...toServiceConfig(loadEnv(Type.Object(serviceEnv({ port: 1 })), { DATABASE_URL: database.url })),
    bodyLimit: 2048,
    logLevel: 'silent',
    logRequests: 'none',
    ...overrides,
  }
}

async function buildApp() {
  const instance = await createServiceApp({
    name: 'demo',
    config: demoConfig(),
    migrations: { schema: 'demo', folder: migrationsFolder },
    logger: false,
    docs: {
      title: 'Demo',
      version: '1.0.0',
      description: 'test app',
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  })
  instance.lifecycle.addCheck('demo', async () => ready)
  const Item = Type.Object({ id: Type.Integer(), name: Type.String() })
  instance.post(
    '/items',
    {
      schema: {
        summary: 'Create an item',
        body: Type.Object(
          { name: Type.String({ minLength: 1 }), price: Type.Integer({ minimum: 0, maximum: 1_000_000 }) },
          { additionalProperties: false },
        ),
        response: { 201: Item, ...kitErrors.responses('VALIDATION_FAILED') },
      },
    },
    async (request, reply) =>
      reply.code(201).send({ id: 1, name: request.body.name, secret: 'never serialised' } as never),
  )
  instance.get(
    '/items',
    {
      schema: {
        querystring: PageQuery,
        response: { 200: Page(Type.Object({ id: Type.String(), name: Type.String() })) },
      },
    },
    async (request) =>
      toPage(
        [1, 2, 3].map((n) => ({
          id: `00000000-0000-4000-8000-00000000000${n}`,
          name: `n${n}`,
          createdAt: new Date(0),
        })),
        request.query.limit,
      ),
  )
  instance.get('/conflict', async () => {
    throw new ApiError(409, 'ITEM_EXISTS', 'an item with this name exists')
  })
  instance.get('/boom', async () => {
    throw new Error('secret internals at /srv/app.js:42')
  })
  instance.get('/db-down', async () => {
    const pool = new pg.Pool({
      connectionString: 'postgres://u:p@127.0.0.1:1/db',
      connectionTimeoutMillis: 500,
    })
    try {
      await pool.query('SELECT 1')
    } finally {
      await pool.end()
    }
  })
  return instance
}

beforeAll(async () => {
  app = await buildApp()
  app.lifecycle.markReady()
})
afterAll(() => app.close())

describe('errors share one shape', () => {
  test('validation failures are 422 and name the field', async () => {
    const res = await app.inject({ method: 'POST', url: '/items', payload: { name: 'x', price: -1 } })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toEqual({
      statusCode: 422,
      code: 'VALIDATION_FAILED',
      message: 'body.price must be >= 0',
      details: [{ in: 'body', field: 'price', message: 'must be >= 0' }],
    })
  })

  test('a missing field, an unknown field and a non-integer are each named', async () => {
    const missing = await app.inject({ method: 'POST', url: '/items', payload: { name: 'x' } })
    expect(missing.json()).toMatchObject({ statusCode: 422, message: 'body.price is required' })
    const unknown = await app.inject({
      method: 'POST',
      url: '/items',
      payload: { name: 'x', price: 1, admin: true },
    })
    expect(unknown.json()).toMatchObject({ statusCode: 422, message: 'body.admin is not an accepted field' })
    const fraction = await app.inject({ method: 'POST', url: '/items', payload: { name: 'x', price: 1.5 } })
    expect(fraction.json()).toMatchObject({ statusCode: 422, message: 'body.price must be integer' })
  })

  test('JSON bodies are not coerced: a numeric string is not a price', async () => {
    const res = await app.inject({ method: 'POST', url: '/items', payload: { name: 'x', price: '12' } })
    expect(res.statusCode).toBe(422)
  })

  test('query strings are coerced to their declared types', async () => {
    const res = await app.inject({ method: 'GET', url: '/items?limit=2' })
    expect(res.statusCode).toBe(200)
    expect(res.json().items).toHaveLength(2)
    expect(res.json().nextCursor).toEqual(expect.any(String))
    const bad = await app.inject({ method: 'GET', url: '/items?limit=500' })
    expect(bad.json()).toMatchObject({ statusCode: 422, message: 'querystring.limit must be <= 100' })
  })

  test('malformed JSON is 400, a wrong content type 415, an oversized body 413', async () => {
    const malformed = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "x",',
    })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json()).toMatchObject({ statusCode: 400, code: 'MALFORMED_JSON' })

    const wrongType = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'text/plain' },
      payload: 'name=x',
    })
    expect(wrongType.json()).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })

    const huge = await app.inject({
      method: 'POST',
      url: '/items',
      payload: { name: 'x'.repeat(5000), price: 1 },
    })
    expect(huge.json()).toMatchObject({ statusCode: 413, code: 'BODY_TOO_LARGE' })
  })

  test('domain errors keep their status and code', async () => {
    const res = await app.inject({ method: 'GET', url: '/conflict' })
    expect(res.json()).toEqual({
      statusCode: 409,
      code: 'ITEM_EXISTS',
      message: 'an item with this name exists',
    })
  })

  test('an unexpected error is a 500 without internals, carrying the request id', async () => {
    const id = '3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b'
    const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': id } })
    expect(res.statusCode).toBe(500)
    expect(res.body).not.toContain('secret internals')
    expect(res.json()).toEqual({
      statusCode: 500,
      code: 'INTERNAL_ERROR',
      message: expect.stringContaining('request id'),
      details: { requestId: id },
    })
    expect(res.headers['x-request-id']).toBe(id)
  })

  test("a caller's X-Request-Id is the request's id only when it is a UUID; anything else gets a fresh one", async () => {
    for (const given of ['req-123', 'x'.repeat(5000), '\n{"level":60,"msg":"forged"}', '']) {
      const res = await app.inject({ method: 'GET', url: '/conflict', headers: { 'x-request-id': given } })
      const id = res.headers['x-request-id'] as string
      expect(id, given.slice(0, 20)).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      )
      expect(id).not.toBe(given)
    }
  })

  test('an unreachable database is a 503 with Retry-After', async () => {
    const res = await app.inject({ method: 'GET', url: '/db-down' })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toMatchObject({ code: 'DB_UNAVAILABLE' })
    expect(res.headers['retry-after']).toBe('1')
  })

  test('an unknown route is a 404 in the same shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope?x=1' })
    expect(res.json()).toEqual({ statusCode: 404, code: 'ROUTE_NOT_FOUND', message: 'no route GET /nope' })
  })

  test('responses carry only the declared fields', async () => {
    const res = await app.inject({ method: 'POST', url: '/items', payload: { name: 'x', price: 1 } })
    expect(res.json()).toEqual({ id: 1, name: 'x' })
  })
})

describe('lifecycle', () => {
  test('while starting: alive, not ready, and API routes answer 503', async () => {
    const starting = await buildApp()
    try {
      expect((await starting.inject('/healthz')).statusCode).toBe(200)
      const readyz = await starting.inject('/readyz')
      expect(readyz.statusCode).toBe(503)
      expect(readyz.json()).toEqual({ status: 'starting', checks: {} })
      const api = await starting.inject('/items')
      expect(api.statusCode).toBe(503)
      expect(api.json()).toMatchObject({ code: 'SERVICE_STARTING' })
      starting.lifecycle.markReady()
      expect((await starting.inject('/items')).statusCode).toBe(200)
    } finally {
      await starting.close()
    }
  })

  test('stopping (the drain after SIGTERM): /readyz answers 503 at once, requests are still served, each closing its connection', async () => {
    const draining = await buildApp()
    try {
      draining.lifecycle.markReady()
      expect((await draining.inject('/readyz')).statusCode).toBe(200)
      draining.lifecycle.markStopping()
      const readyz = await draining.inject('/readyz')
      expect(readyz.statusCode).toBe(503)
      expect(readyz.json()).toEqual({ status: 'stopping', checks: {} })
      const api = await draining.inject('/items')
      expect(api.statusCode).toBe(200)
      expect(api.headers.connection).toBe('close')
    } finally {
      await draining.close()
    }
  })

  test("when ready, /readyz runs the checks on every probe: the database plugin's own and the service's", async () => {
    const all = { database: 'ok', migrations: 'ok', demo: 'ok' }
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready', checks: all })
    ready = false
    const failing = await app.inject('/readyz')
    ready = true
    expect(failing.statusCode).toBe(503)
    expect(failing.json()).toEqual({ status: 'unavailable', checks: { ...all, demo: 'failing' } })
  })

  test('a migration of this build missing from the ledger makes it unready', async () => {
    const unmigrated = await createServiceApp({
      name: 'demo',
      config: demoConfig(),
      migrations: { schema: 'nowhere', folder: migrationsFolder },
      logger: false,
      docs: { title: 'Demo', version: '1', description: 'd' },
    })
    try {
      unmigrated.lifecycle.markReady()
      const readyz = await unmigrated.inject('/readyz')
      expect(readyz.statusCode).toBe(503)
      expect(readyz.json()).toEqual({
        status: 'unavailable',
        checks: { database: 'ok', migrations: 'failing' },
      })
    } finally {
      await unmigrated.close()
    }
  })
})

describe('docs', () => {
  test('/openapi.json is a valid OpenAPI 3.1 document listing the routes', async () => {
    const document = (await app.inject('/openapi.json')).json()
    expect(document.openapi).toBe('3.1.0')
    await SwaggerParser.validate(structuredClone(document))
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/items', '/healthz', '/readyz']))
    expect(document.paths['/items'].post.responses['422']).toBeDefined()
  })

  test('every schema it serves is valid JSON Schema (startup skips that check)', async () => {
    const document = (await app.inject('/openapi.json')).json()
    expect(invalidSchemasIn(document)).toEqual([])
    // The check itself finds a bad schema, wherever it sits.
    document.paths['/items'].post.requestBody.content['application/json'].schema.properties.name.minLength =
      'x'
    expect(invalidSchemasIn(document)).toEqual([
      expect.stringMatching(/^#\/paths\/\/items\/post\/requestBody\/.*\/schema: .*minLength/),
    ])
  })

  test('/ redirects to /docs, which serves Swagger UI from this server', async () => {
    const root = await app.inject('/')
    expect(root.statusCode).toBe(302)
    expect(root.headers.location).toBe('/docs')
    const docs = await app.inject('/docs/')
    expect(docs.statusCode).toBe(200)
    expect(docs.body).toContain('swagger-ui')
    expect(docs.body).not.toMatch(/https?:\/\/(?!localhost)/)
    const init = await app.inject('/docs/static/swagger-initializer.js')
    expect(init.body).not.toContain('validator.swagger.io')
  })
})

describe('request logging', () => {
  /** A demo app whose log lines (info and up) are collected, parsed. */
  async function appLoggingTo(logRequests: ServiceConfig['logRequests']) {
    const lines: Record<string, unknown>[] = []
    const app = await createServiceApp({
      name: 'demo',
      config: demoConfig({ logLevel: 'info', logRequests }),
      migrations: { schema: 'demo', folder: migrationsFolder },
      logger: { level: 'info', stream: { write: (line: string) => lines.push(JSON.parse(line)) } },
      docs: { title: 'Demo', version: '1', description: 'd' },
    })
    return { app, lines }
  }

  test('a deliberate 503 (shedding load) is a warning without a stack; an unexpected failure an error with one', async () => {
    const { app: logged, lines } = await appLoggingTo('none')
    logged.get('/busy', async () => {
      throw new ApiError(503, 'BUSY', 'too many password checks waiting; retry shortly')
    })
    logged.get('/boom', async () => {
      throw new Error('a bug')
    })
    logged.lifecycle.markReady()
    try {
      expect((await logged.inject('/busy')).statusCode).toBe(503)
      expect((await logged.inject('/boom')).statusCode).toBe(500)
      const reports = lines.filter((l) => typeof l.msg === 'string' && /^GET \/(busy|boom) /.test(l.msg))
      expect(reports).toEqual([
        expect.objectContaining({ level: 40, code: 'BUSY', msg: 'GET /busy answered BUSY' }),
        expect.objectContaining({
          level: 50,
          msg: 'GET /boom failed: a bug',
          err: expect.objectContaining({ stack: expect.any(String) }),
        }),
      ])
      expect(reports[0]).not.toHaveProperty('err')
    } finally {
      await logged.close()
    }
  })

  test('one line per request with status and duration; probes are not logged', async () => {
    const { app: logged, lines } = await appLoggingTo('all')
    logged.get('/ping', async () => ({ ok: true }))
    logged.lifecycle.markReady()
    try {
      await logged.inject('/ping')
      await logged.inject('/readyz')
      await logged.inject('/healthz')
      const requests = lines.filter((l) => l.msg === 'request')
      expect(requests).toEqual([
        expect.objectContaining({ method: 'GET', url: '/ping', statusCode: 200, ms: expect.any(Number) }),
      ])
    } finally {
      await logged.close()
    }
  })
})

test("each error status's OpenAPI example carries that status's own code", async () => {
  const document = (await app.inject('/openapi.json')).json()
  const responses = document.paths['/items'].post.responses
  const example = (status: string) => responses[status].content['application/json'].example
  expect(example('413')).toMatchObject({ statusCode: 413, code: 'BODY_TOO_LARGE' })
  expect(example('422')).toMatchObject({ statusCode: 422, code: 'VALIDATION_FAILED' })
})
