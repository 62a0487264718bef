import SwaggerParser from '@apidevtools/swagger-parser'
import { invalidSchemasIn } from '@app/service'
import { expect, test } from 'vitest'
import { buildTestApp } from './helper.js'

const { app } = await buildTestApp()
const res = await app.inject('/openapi.json')
// Just the parts these tests read.
interface Operation {
  summary?: string
  tags?: string[]
  security?: Record<string, string[]>[]
  requestBody?: { content: Record<string, unknown> }
  responses?: Record<string, { content?: unknown }>
}
interface Document {
  paths?: Record<string, Record<string, Operation>>
  components?: { securitySchemes?: Record<string, unknown> }
}
const document = res.json<Document>()

test('the OpenAPI document is valid OpenAPI 3', async () => {
  expect(res.statusCode).toBe(200)
  // validate() dereferences in place; keep the original for the other tests.
  await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy()
  // The service skips this check at startup: every schema it validates with is here.
  expect(invalidSchemasIn(document)).toEqual([])
})

test('it lists every route, each with a summary, a tag and its responses', () => {
  const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item ?? {}).map(([method, operation]) => ({
      route: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  )
  expect(operations.map((o) => o.route).sort()).toEqual(
    [
      'GET /.well-known/oauth-authorization-server',
      'GET /auth/.well-known/jwks.json',
      'GET /auth/users',
      'GET /auth/users/me',
      'GET /auth/users/{id}',
      'GET /healthz',
      'GET /readyz',
      'POST /auth/token',
      'POST /auth/users',
    ].sort(),
  )
  for (const { route, operation } of operations) {
    expect(operation.summary, route).toBeTruthy()
    expect(operation.tags?.length, route).toBeGreaterThan(0)
    expect(Object.keys(operation.responses ?? {}).length, route).toBeGreaterThan(0)
  }
})

test('the login form and the bearer routes are wired for Swagger UI', () => {
  expect(document.components?.securitySchemes).toMatchObject({
    OAuth2PasswordBearer: {
      type: 'oauth2',
      // The Authorize dialog offers every scope auth grants.
      flows: {
        password: {
          tokenUrl: '/auth/token',
          scopes: { 'users:read': expect.any(String), 'billing:plans:write': expect.any(String) },
        },
      },
    },
    bearerAuth: { type: 'http', scheme: 'bearer' },
  })
  const token = document.paths?.['/auth/token']?.post
  expect(Object.keys(token?.requestBody?.content ?? {})).toEqual(['application/x-www-form-urlencoded'])
  for (const path of ['/auth/users/me', '/auth/users/{id}']) {
    expect(document.paths?.[path]?.get?.security, path).toEqual([
      { OAuth2PasswordBearer: [] },
      { bearerAuth: [] },
    ])
  }
  // The list asks for its scope, and documents the 403 it answers without it.
  const list = document.paths?.['/auth/users']?.get
  expect(list?.security).toEqual([{ OAuth2PasswordBearer: ['users:read'] }, { bearerAuth: [] }])
  expect(JSON.stringify(list?.responses?.['403'])).toContain('INSUFFICIENT_SCOPE')
  expect(document.paths?.['/auth/users/me']?.get?.responses?.['403']).toBeUndefined()
  expect(document.paths?.['/auth/users']?.post?.security).toBeUndefined()
})

test('request and response schemas carry examples', () => {
  const json = document.paths?.['/auth/users']?.post?.requestBody?.content['application/json']
  expect(JSON.stringify(json)).toContain('correct horse battery staple')
  const ok = document.paths?.['/auth/users/{id}']?.get?.responses?.['200']
  expect(JSON.stringify(ok?.content)).toContain('alice@example.com')
})

test('/docs serves Swagger UI and / redirects there', async () => {
  const docs = await app.inject('/docs/')
  expect(docs.statusCode).toBe(200)
  expect(docs.body).toContain('swagger')
  const root = await app.inject('/')
  expect(root.statusCode).toBe(302)
  expect(root.headers.location).toBe('/docs')
})
