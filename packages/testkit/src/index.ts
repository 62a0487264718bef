// What a service's tests need: the run's PostgreSQL (testRunSetup, from @app/db),
// template databases where the services' roles were bootstrapped and their
// migrations applied as those roles, the up/down/up round trip, services as real
// processes (startService), the Makefile's verbs run as a user runs them,
// /metrics read back as samples, auth's tokens without auth (startJwksServer), and
// admins of a running auth (registeredUser, promoteToAdmin).
// The OpenAPI contract checks: @app/testkit/contract.
export { freePort } from '@app/db/embedded'
export { type TestRun, testRunSetup } from '@app/db/test-run'
export { output } from '@app/migrations/testing'
export { describeExit, SERVICE_START_COMMAND } from '@app/process'
export { promoteToAdmin, registeredUser, type TestUser } from './admin-users.js'
export {
  cleanEnv,
  descendants,
  MakeJob,
  type MakeResult,
  make,
  opsErrors,
  withoutDocker,
} from './make.js'
export { type MetricSample, parseMetrics, type ScrapedMetrics, sampleValue } from './metrics-text.js'
export { migrationsRoundTrip } from './migrations-roundtrip.js'
export {
  type Exit,
  type KeptProcess,
  killLeftovers,
  type LogEntry,
  parseLog,
  type ServiceProcess,
  type StartServiceOptions,
  startProcess,
  startReadyService,
  startService,
} from './service-process.js'
export { prepareServiceTemplate } from './service-templates.js'
export {
  AUTH_DEFAULTS,
  createSigningKey,
  type JwksServer,
  type SigningKey,
  signToken,
  startJwksServer,
  type TokenClaims,
} from './signing-keys.js'
