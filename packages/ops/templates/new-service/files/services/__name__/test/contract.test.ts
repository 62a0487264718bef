// The OpenAPI document as a contract client generators can use: Spectral's
// spectral:oas ruleset finds no error (each remaining warning justified here), every
// operation has a stable camelCase operationId, every published pattern is in the
// regex subset every engine accepts, and the committed client types are what
// openapi-typescript generates from this very document.
import {
  clientTypes,
  lintOpenApi,
  nonPortablePatterns,
  type OpenApiDocument,
  operationIds,
  operationProblems,
} from '@app/testkit/contract'
import { beforeAll, expect, test } from 'vitest'
import { buildTestApp } from './helper.js'

let document: OpenApiDocument
beforeAll(async () => {
  const app = await buildTestApp({ AUTH_URL: 'http://127.0.0.1:9' })
  document = (await app.inject('/openapi.json')).json()
})

test('spectral:oas finds no error, and only the warnings justified here', async () => {
  expect(await lintOpenApi(document)).toEqual(
    [
      // OpenAPI's default server is `/`, the origin the document was fetched from:
      // right wherever __name__ runs, where any absolute URL would be wrong somewhere.
      'warn oas3-api-servers ',
      // No team address exists to publish; an invented one would be worse than none.
      'warn info-contact info',
    ].sort(),
  )
})

test('every operation has a stable camelCase operationId and a description', () => {
  // Generated clients name their methods after these: renaming one breaks them.
  expect(operationIds(document)).toEqual({
    'GET /healthz': 'checkLiveness',
    'GET /readyz': 'checkReadiness',
    'POST /__name__/items': 'createItem',
    'GET /__name__/items': 'listItems',
    'GET /__name__/items/{id}': 'getItem',
  })
  expect(operationProblems(document)).toEqual([])
})

test('every published pattern uses the portable regex subset', () => {
  expect(nonPortablePatterns(document)).toEqual([])
})

test('client/openapi.d.ts is what openapi-typescript generates from this document', async () => {
  await expect(
    await clientTypes(document, '__name__'),
    'stale: regenerate with the command in its header',
  ).toMatchFileSnapshot('../client/openapi.d.ts')
})
