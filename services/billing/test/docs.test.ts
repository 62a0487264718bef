// The service's surface: readiness, and an OpenAPI document that a real validator
// accepts and that lists every route with its security and examples.

import SwaggerParser from '@apidevtools/swagger-parser'
import { invalidSchemasIn } from '@app/service'
import { beforeAll, expect, test } from 'vitest'
import { buildTestApp, type TestApp } from './helper.js'

let t: TestApp
beforeAll(async () => {
  // No auth is needed to build the app or to serve its docs.
  t = await buildTestApp({ AUTH_URL: 'http://127.0.0.1:9', AUTH_PUBLIC_URL: 'http://localhost:5008' })
})

test('/readyz: the database is reachable as the billing role and every migration is applied', async () => {
  const res = await t.app.inject('/readyz')
  expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } })
  expect(res.statusCode).toBe(200)
})

test('/ redirects to the Swagger UI at /docs', async () => {
  const res = await t.app.inject('/')
  expect(res.statusCode).toBe(302)
  expect(res.headers.location).toBe('/docs')
  expect((await t.app.inject('/docs')).statusCode).toBe(200)
})

test('the OpenAPI document is valid and lists every route, with bearer security on the protected ones', async () => {
  const res = await t.app.inject('/openapi.json')
  expect(res.statusCode).toBe(200)
  const document = res.json()
  await SwaggerParser.validate(structuredClone(document))
  // The service skips this check at startup: every schema it validates with is here.
  expect(invalidSchemasIn(document)).toEqual([])

  const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
    ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  )
  expect(operations.sort()).toEqual(
    [
      'GET /healthz',
      'GET /readyz',
      'POST /billing/subscriptions',
      'GET /billing/subscriptions',
      'GET /billing/subscriptions/{id}',
      'POST /billing/subscriptions/{id}/retire',
      'POST /billing/user-subscriptions',
      'GET /billing/user-subscriptions',
      'GET /billing/user-subscriptions/{id}',
      'POST /billing/user-subscriptions/{id}/cancel',
    ].sort(),
  )
  expect(document.components.securitySchemes).toMatchObject({
    // Swagger UI's Authorize login form posts to auth where the browser reaches it.
    OAuth2PasswordBearer: {
      type: 'oauth2',
      // The Authorize dialog offers the scope plan writes need.
      flows: {
        password: {
          tokenUrl: 'http://localhost:5008/auth/token',
          scopes: { 'billing:plans:write': expect.any(String) },
        },
      },
    },
    bearerAuth: { type: 'http', scheme: 'bearer' },
  })

  const op = (method: string, path: string) => document.paths[path][method]
  // Writing plans asks for its scope (and documents the 403); the caller's own data for none.
  for (const operation of [
    op('post', '/billing/subscriptions'),
    op('post', '/billing/subscriptions/{id}/retire'),
  ]) {
    expect(operation.security).toEqual([
      { OAuth2PasswordBearer: ['billing:plans:write'] },
      { bearerAuth: [] },
    ])
    expect(JSON.stringify(operation.responses['403'])).toContain('INSUFFICIENT_SCOPE')
  }
  const protectedOps = [
    op('post', '/billing/user-subscriptions'),
    op('get', '/billing/user-subscriptions'),
    op('get', '/billing/user-subscriptions/{id}'),
    op('post', '/billing/user-subscriptions/{id}/cancel'),
  ]
  for (const operation of protectedOps) {
    expect(operation.security).toEqual([{ OAuth2PasswordBearer: [] }, { bearerAuth: [] }])
  }
  for (const operation of [op('get', '/billing/subscriptions'), op('get', '/billing/subscriptions/{id}')]) {
    expect(operation.security).toBeUndefined()
  }

  // Every POST documents the Idempotency-Key header; bodies carry examples.
  for (const path of [
    '/billing/subscriptions',
    '/billing/subscriptions/{id}/retire',
    '/billing/user-subscriptions',
    '/billing/user-subscriptions/{id}/cancel',
  ]) {
    const header = op('post', path).parameters.find(
      (parameter: { in: string; name: string }) =>
        parameter.in === 'header' && parameter.name === 'idempotency-key',
    )
    expect(header).toMatchObject({ required: false })
    // Nothing Swagger UI would prefill: one shared key would make the page's second POST a 422.
    expect(JSON.stringify(header)).not.toMatch(/"examples?"/)
  }
  const createPlan = op('post', '/billing/subscriptions')
  expect(createPlan.requestBody.content['application/json'].example).toEqual({
    category: 'premium',
    priceMinor: 999,
    currency: 'EUR',
  })
  // Every billing success response says what it is (no 'Default Response').
  type Operation = { responses: Record<string, { description: string }> }
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, Operation>>)) {
    if (!path.startsWith('/billing/')) continue
    for (const [method, operation] of Object.entries(item)) {
      const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'))
      expect(success?.[1].description, `${method} ${path}`).not.toBe('Default Response')
    }
  }
  expect(Object.keys(createPlan.responses).sort()).toEqual([
    '201',
    '400',
    '401',
    '403',
    '409',
    '413',
    '415',
    '422',
    '500',
    '503',
  ])
  // Each error status lists exactly the codes the route can send.
  const codes = (operation: Operation & Record<string, unknown>, status: string) =>
    (
      operation.responses[status] as unknown as {
        content: Record<string, { schema: { properties: { code: { enum: string[] } } } }>
      }
    ).content['application/json']!.schema.properties.code.enum
  expect(codes(createPlan as never, '401')).toEqual(['INVALID_TOKEN', 'NOT_AUTHENTICATED'])
  expect(codes(createPlan as never, '409')).toEqual(['IDEMPOTENCY_KEY_BUSY'])
  expect(codes(createPlan as never, '503')).toEqual(['DB_TIMEOUT', 'DB_UNAVAILABLE', 'SERVICE_STARTING'])
  const subscribe = op('post', '/billing/user-subscriptions')
  expect(codes(subscribe as never, '422')).toEqual([
    'IDEMPOTENCY_KEY_REUSED',
    'UNKNOWN_SUBSCRIPTION',
    'UNKNOWN_USER',
    'VALIDATION_FAILED',
  ])
  expect(codes(subscribe as never, '503')).toEqual([
    'AUTH_UNAVAILABLE',
    'DB_TIMEOUT',
    'DB_UNAVAILABLE',
    'SERVICE_STARTING',
  ])
  expect(codes(op('get', '/billing/user-subscriptions/{id}') as never, '404')).toEqual([
    'USER_SUBSCRIPTION_NOT_FOUND',
  ])
})
