// billing's OpenAPI document as a contract client generators can use (@app/testkit's
// contractTests): Spectral's spectral:oas ruleset finds no error and only the
// justified warnings, every operation keeps its camelCase operationId and has a
// description, every published pattern is in the regex subset every engine accepts,
// and the committed client types are what openapi-typescript generates from it.
import { contractTests } from '@app/testkit/contract'
import { buildTestApp } from './helper.js'

contractTests({
  service: 'billing',
  app: async () => (await buildTestApp({ AUTH_URL: 'http://127.0.0.1:9' })).app,
  publishesPatterns: true,
  // Besides the kit's checkLiveness and checkReadiness. Generated clients name their
  // methods after these: renaming one breaks them.
  operationIds: {
    'POST /billing/subscriptions': 'createPlan',
    'POST /billing/subscriptions/{id}/retire': 'retirePlan',
    'GET /billing/subscriptions': 'listPlans',
    'GET /billing/subscriptions/{id}': 'getPlan',
    'POST /billing/user-subscriptions': 'createUserSubscription',
    'GET /billing/user-subscriptions': 'listUserSubscriptions',
    'GET /billing/user-subscriptions/{id}': 'getUserSubscription',
    'POST /billing/user-subscriptions/{id}/cancel': 'cancelUserSubscription',
  },
})
