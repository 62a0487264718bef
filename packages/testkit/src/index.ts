// What a service's tests need: the run's PostgreSQL (testRunSetup, from @app/db),
// template databases where the services' roles were bootstrapped and their
// migrations applied as those roles, the up/down/up round trip, the Makefile's
// verbs run as a user runs them, and /metrics read back as samples.
export { type TestRun, testRunSetup } from '@app/db/test-run'
export { output } from '@app/migrations/testing'
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
export { prepareServiceTemplate } from './service-templates.js'
