// auth's OpenAPI document as a contract client generators can use (@app/testkit's
// contractTests): Spectral's spectral:oas ruleset finds no error and only the
// justified warnings, every operation keeps its camelCase operationId and has a
// description, every published pattern is in the regex subset every engine accepts,
// and the committed client types are what openapi-typescript generates from it.
import { contractTests } from '@app/testkit/contract'
import { buildTestApp } from './helper.js'

contractTests({
  service: 'auth',
  app: async () => (await buildTestApp()).app,
  publishesPatterns: true,
  // Besides the kit's checkLiveness and checkReadiness. Generated clients name their
  // methods after these: renaming one breaks them.
  operationIds: {
    'POST /auth/users': 'registerUser',
    'GET /auth/users': 'listUsers',
    'GET /auth/users/me': 'getCurrentUser',
    'GET /auth/users/{id}': 'getUser',
    'POST /auth/token': 'logIn',
    'GET /auth/.well-known/jwks.json': 'getSigningKeys',
    'GET /.well-known/oauth-authorization-server': 'getAuthorizationServerMetadata',
  },
})
