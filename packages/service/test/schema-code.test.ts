// Validators and serializers generated in the build's training start and loaded at a
// later start: the app answers exactly as with ones generated on the spot. Two apps in
// this process, each with fresh copies of the kit's modules (their caches start
// empty), the first recording, the second loading what the first recorded.
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { afterEach, expect, test, vi } from 'vitest'
import type { CodeCacheReport } from '../src/code-cache.js'

const REPORT = Symbol.for('@app/service.codeCache')
afterEach(() => {
  delete (globalThis as Record<symbol, unknown>)[REPORT]
})

const Body = Type.Object(
  {
    email: Type.String({ format: 'email' }),
    // minLength counts characters (Ajv's ucs2length), not UTF-16 units.
    name: Type.String({ minLength: 3, pattern: '^[^<>]*$' }),
    tags: Type.Optional(Type.Array(Type.String(), { maxItems: 2 })),
  },
  { additionalProperties: false },
)
const Query = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  on: Type.Boolean(),
})
const Answer = Type.Object({
  id: Type.Integer(),
  at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  kind: Type.Union([Type.Literal('a'), Type.Literal('b')]),
  echo: Type.Unknown(),
})

async function appWith(report: CodeCacheReport | undefined) {
  vi.resetModules()
  ;(globalThis as Record<symbol, unknown>)[REPORT] = report
  const { createValidatorCompiler } = await import('../src/validation.js')
  const { sharedSerializerFactory } = await import('../src/serialization.js')
  const { schemaCodeCounts } = await import('../src/schema-code.js')
  const { default: Fastify } = await import('fastify')
  const app: FastifyInstance = Fastify({
    schemaController: { compilersFactory: { buildSerializer: sharedSerializerFactory } },
  })
  app.setValidatorCompiler(createValidatorCompiler())
  const respond = (echo: unknown) => ({
    id: 1,
    at: new Date(Date.UTC(2026, 0, 2)),
    kind: 'b',
    echo,
    secret: 's',
  })
  app.post('/things', { schema: { body: Body, response: { 200: Answer } } }, async (request) =>
    respond(request.body),
  )
  app.get('/things', { schema: { querystring: Query, response: { 200: Answer } } }, async (request) =>
    respond(request.query),
  )
  await app.ready()
  return { app, counts: schemaCodeCounts() }
}

const requests = [
  { method: 'POST', url: '/things', payload: { email: 'a@example.com', name: 'Zoë' } },
  { method: 'POST', url: '/things', payload: { email: 'not-an-email', name: 'Zoë' } },
  { method: 'POST', url: '/things', payload: { email: 'a@example.com', name: '😀😀' } },
  { method: 'POST', url: '/things', payload: { email: 'a@example.com', name: '<b>', tags: ['x'] } },
  { method: 'POST', url: '/things', payload: { email: 'a@example.com', name: 'abc', extra: 1 } },
  { method: 'POST', url: '/things', payload: { email: 'a@example.com', name: 'abc', tags: ['1', '2', '3'] } },
  { method: 'GET', url: '/things?on=true' },
  { method: 'GET', url: '/things?on=false&limit=7' },
  { method: 'GET', url: '/things?on=maybe' },
  { method: 'GET', url: '/things?on=true&limit=0' },
] as const

test('an app loading the recorded validators and serializers answers as one generating them', async () => {
  const sources: Record<string, string> = {}
  const training = await appWith({
    status: 'training',
    recordSchemaSource: (key, source) => {
      sources[key] = source
    },
  })
  // Two bodies, one query string; two equal response schemas: one serializer.
  expect(training.counts).toEqual({ loaded: 0, generated: 3 + 1 - 1 })
  expect(Object.keys(sources)).toHaveLength(3)

  const loading = await appWith({ status: 'used', schemaSources: sources })
  expect(loading.counts).toEqual({ loaded: 3, generated: 0 })

  for (const request of requests) {
    const [generated, loaded] = await Promise.all([training.app.inject(request), loading.app.inject(request)])
    expect({ status: loaded.statusCode, body: loaded.json() }, JSON.stringify(request)).toEqual({
      status: generated.statusCode,
      body: generated.json(),
    })
  }
  // The cases above reach both outcomes.
  const statuses = await Promise.all(
    requests.map(async (request) => (await loading.app.inject(request)).statusCode),
  )
  expect(new Set(statuses)).toEqual(new Set([200, 400]))
  await Promise.all([training.app.close(), loading.app.close()])
})

test('a key with no recorded code, or code needing a module not bundled, is generated on the spot', async () => {
  const { app, counts } = await appWith({
    status: 'used',
    schemaSources: { 'validator strict {}': 'module.exports = require("left-pad")' },
  })
  expect(counts).toEqual({ loaded: 0, generated: 3 })
  expect((await app.inject(requests[1])).statusCode).toBe(400)
  await app.close()
})
