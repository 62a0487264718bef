// RFC 8414 authorization server metadata at the root: the issuer is exactly the
// tokens' iss, and each URL in it answers what it names.
import { decodeJwt } from 'jose'
import { expect, test } from 'vitest'
import { buildTestApp, login, register, requestToken } from './helper.js'

const ISSUER = 'https://auth.example.test'
const { app } = await buildTestApp({ AUTH_ISSUER: ISSUER })

/** A URL of the metadata, requested of this app (it is the issuer's: same origin, its path). */
function pathOf(url: string): string {
  const parsed = new URL(url)
  expect(parsed.origin).toBe(ISSUER)
  return parsed.pathname
}

test('GET /.well-known/oauth-authorization-server describes the token endpoint, the keys and the scopes', async () => {
  const res = await app.inject('/.well-known/oauth-authorization-server')
  expect(res.statusCode).toBe(200)
  expect(res.json()).toEqual({
    issuer: ISSUER,
    token_endpoint: `${ISSUER}/auth/token`,
    jwks_uri: `${ISSUER}/auth/.well-known/jwks.json`,
    grant_types_supported: ['password'],
    scopes_supported: ['users:read', 'billing:plans:write'],
    token_endpoint_auth_methods_supported: ['none'],
    response_types_supported: [],
  })
})

test("its issuer is the tokens' iss, and its URLs work: the token endpoint logs in, the JWKS verifies", async () => {
  const metadata = (await app.inject('/.well-known/oauth-authorization-server')).json()
  const user = await register(app)
  const token = await login(app, user)
  expect(decodeJwt(token).iss).toBe(metadata.issuer)

  expect(pathOf(metadata.token_endpoint)).toBe('/auth/token')
  const viaMetadata = await requestToken(app, { username: user.username, password: user.password })
  expect(viaMetadata.statusCode).toBe(200)

  const jwks = await app.inject(pathOf(metadata.jwks_uri))
  expect(jwks.statusCode).toBe(200)
  expect(jwks.json().keys).toHaveLength(1)
})

test('it is in the OpenAPI document with an operationId', async () => {
  const doc = (await app.inject('/openapi.json')).json()
  expect(doc.paths['/.well-known/oauth-authorization-server'].get.operationId).toBe(
    'getAuthorizationServerMetadata',
  )
})
