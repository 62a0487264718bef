// auth's /metrics on the real process (node dist/server.js, as the image runs it),
// started on a database that is bootstrapped but not migrated: it migrates at start,
// and /metrics shows that run, the ledger, the pool, and each request it served.
// The same process shows it started from the code cache its build trained.
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createScratchDatabase } from '@app/db'
import { readMigrationFolder } from '@app/migrations'
import { bootstrapServices, discoverServices, ownerUrl, runtimeUrl } from '@app/migrations/authoring'
import {
  killLeftovers,
  parseMetrics,
  type ScrapedMetrics,
  type ServiceProcess,
  sampleValue,
  startReadyService,
} from '@app/testkit'
import { afterAll, beforeAll, expect, inject, test } from 'vitest'
import { newUser } from './helper.js'

const auth = discoverServices().find((s) => s.name === 'auth')!
let service: ServiceProcess
let baseUrl: string

beforeAll(async () => {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_auth_metrics` })
  await bootstrapServices(database.url, [auth], {})
  service = await startReadyService({
    dir: auth.dir,
    env: {
      DATABASE_URL: runtimeUrl(database.url, auth, {}),
      MIGRATION_DATABASE_URL: ownerUrl(database.url, auth, {}),
      // info: the ready line (its codeCache) is checked below.
      LOG_LEVEL: 'info',
      AUTH_JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    },
  })
  baseUrl = service.baseUrl
  return async () => {
    await service.stop()
    await database.drop()
  }
})
afterAll(() => killLeftovers())

// @app/service's code-cache.ts: a build that lost its training start shows here, not
// only as a slower start in the bench.
test('started from the code cache its build trained (the ready line says so)', async () => {
  // /readyz may answer 200 before the ready line has come through the pipe.
  await expect
    .poll(() => service.logEntries().find((entry) => String(entry.msg).startsWith('auth: ready on')), {
      timeout: 10_000,
    })
    .toMatchObject({ codeCache: 'used' })
})

// @app/service's schema-code.ts: the validators and serializers this process runs
// are the ones its build generated, and they answer as generated ones do (the
// in-process tests run generated ones).
test("its route validators and serializers are its build's generated code, and they validate and answer", async () => {
  const ready = service.logEntries().find((entry) => String(entry.msg).startsWith('auth: ready on'))
  const counts = ready?.schemaCode as { loaded: number; generated: number } | undefined
  expect(counts?.generated).toBe(0)
  expect(counts?.loaded).toBeGreaterThan(0)

  const post = (body: unknown) =>
    fetch(`${baseUrl}/auth/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const invalid = await post(newUser({ email: 'not-an-email' }))
  expect(invalid.status).toBe(422)
  const problem = (await invalid.json()) as { code: string; message: string }
  expect(problem.code).toBe('VALIDATION_FAILED')
  expect(problem.message).toContain('email')
  const user = newUser()
  const created = await post(user)
  expect(created.status).toBe(201)
  // The response schema's fields, and nothing else of the row (no password hash).
  expect(Object.keys((await created.json()) as object).sort()).toEqual(
    ['createdAt', 'email', 'id', 'updatedAt', 'username'].sort(),
  )
})

async function scrape(): Promise<ScrapedMetrics> {
  const response = await fetch(`${baseUrl}/metrics`)
  expect(response.status, service.lines.join('\n')).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseMetrics(await response.text())
}

test('serves the request, pool, migration and process families', async () => {
  const metrics = await scrape()
  const families = {
    http_requests_total: 'counter',
    http_request_duration_seconds: 'histogram',
    db_pool_connections_in_use: 'gauge',
    db_pool_connections_idle: 'gauge',
    db_pool_waiting: 'gauge',
    db_pool_connections_max: 'gauge',
    db_pipeline_connections_open: 'gauge',
    db_pipeline_queries_in_flight: 'gauge',
    db_migrations: 'gauge',
    db_migration_last_run_duration_seconds: 'gauge',
    db_migration_last_run_applied: 'gauge',
    // prom-client's default metrics: the process and the Node runtime.
    process_cpu_seconds_total: 'counter',
    process_resident_memory_bytes: 'gauge',
    nodejs_eventloop_lag_seconds: 'gauge',
    nodejs_heap_size_used_bytes: 'gauge',
    nodejs_gc_duration_seconds: 'histogram',
  }
  for (const [family, type] of Object.entries(families)) expect(metrics.types.get(family), family).toBe(type)
})

test('the migration run at start, the ledger and the pool, with plausible figures', async () => {
  const migrations = readMigrationFolder(auth.migrationsFolder).length
  expect(migrations).toBeGreaterThan(0)
  const metrics = await scrape()
  const schema = { schema: 'auth' }
  // The database was empty: this process's run applied every migration.
  expect(sampleValue(metrics, 'db_migration_last_run_applied', schema)).toBe(migrations)
  const seconds = sampleValue(metrics, 'db_migration_last_run_duration_seconds', schema)!
  expect(seconds).toBeGreaterThan(0)
  expect(seconds).toBeLessThan(30)
  expect(sampleValue(metrics, 'db_migrations', { ...schema, state: 'applied' })).toBe(migrations)
  expect(sampleValue(metrics, 'db_migrations', { ...schema, state: 'pending' })).toBe(0)

  const max = sampleValue(metrics, 'db_pool_connections_max', {})!
  const inUse = sampleValue(metrics, 'db_pool_connections_in_use', {})!
  const idle = sampleValue(metrics, 'db_pool_connections_idle', {})!
  expect(max).toBe(10)
  expect(inUse).toBeGreaterThanOrEqual(0)
  expect(idle).toBeGreaterThanOrEqual(0)
  expect(inUse + idle).toBeLessThanOrEqual(max)
  expect(sampleValue(metrics, 'db_pool_waiting', {})).toBe(0)
  // The readiness checks and the ledger read ran on the shared connection: one is open, nothing
  // left unanswered on it.
  expect(sampleValue(metrics, 'db_pipeline_connections_open', {})).toBe(1)
  expect(sampleValue(metrics, 'db_pipeline_queries_in_flight', {})).toBe(0)
  expect(sampleValue(metrics, 'process_resident_memory_bytes', {})).toBeGreaterThan(20 * 2 ** 20)
})

test('counts each request it served once, under its route pattern and status', async () => {
  const registered = { method: 'POST', route: '/auth/users', status_code: '201' }
  const byId = { method: 'GET', route: '/auth/users/:id', status_code: '401' }
  const count = (metrics: ScrapedMetrics, labels: Record<string, string>) =>
    sampleValue(metrics, 'http_requests_total', labels) ?? 0
  const timed = (metrics: ScrapedMetrics, labels: Record<string, string>) =>
    sampleValue(metrics, 'http_request_duration_seconds_count', labels) ?? 0

  const before = await scrape()
  const response = await fetch(`${baseUrl}/auth/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(newUser()),
  })
  expect(response.status).toBe(201)
  const id = randomUUID()
  expect((await fetch(`${baseUrl}/auth/users/${id}`)).status).toBe(401)
  const after = await scrape()

  expect(count(after, registered) - count(before, registered)).toBe(1)
  expect(timed(after, registered) - timed(before, registered)).toBe(1)
  expect(count(after, byId) - count(before, byId)).toBe(1)
  expect(after.samples.some((s) => s.labels.route?.includes(id))).toBe(false)
  // A scrape is not counted: /metrics never appears as a route.
  expect(after.samples.some((s) => s.labels.route === '/metrics')).toBe(false)
})
