// /metrics on apps built by the kit, against a real PostgreSQL: the families, a
// request counted under its route pattern, the pool and ledger read at scrape time,
// one registry per app, open while starting, internal (hidden, unlogged), and off
// with METRICS_ENABLED=false.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { migrate } from '@app/migrations'
import { writeMigrationsFolder } from '@app/migrations/testing'
import { parseMetrics, sampleValue } from '@app/testkit'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { Type } from 'typebox'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { createServiceApp, loadEnv, type ServiceConfig, serviceEnv, toServiceConfig } from '../src/index.js'

let database: ScratchDatabase
const migrationsFolder = path.join(mkdtempSync(path.join(tmpdir(), 'service-metrics-')), 'drizzle')

beforeAll(async () => {
  const run = inject('testRun')
  database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_metrics` })
  writeMigrationsFolder(migrationsFolder, [
    { statements: ['CREATE TABLE "demo"."items" ("id" integer);'] },
    { statements: ['ALTER TABLE "demo"."items" ADD COLUMN "name" text;'] },
  ])
  await migrate({ url: database.url, schema: 'demo', migrationsFolder })
  return () => database.drop()
})

async function buildApp(env: Record<string, string> = {}, overrides: Partial<ServiceConfig> = {}) {
  const config = {
    ...toServiceConfig(loadEnv(Type.Object(serviceEnv({ port: 1 })), { DATABASE_URL: database.url, ...env })),
    logLevel: 'silent',
    logRequests: 'none' as const,
    ...overrides,
  }
  const app = await createServiceApp({
    name: 'demo',
    config,
    migrations: { schema: 'demo', folder: migrationsFolder },
    logger: false,
    docs: { title: 'Demo', version: '1.0.0', description: 'test app' },
  })
  app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }))
  afterAll(() => app.close())
  return app
}

/** A transaction that holds one of the pool's connections until released (resolves once it has started). */
async function holdTransaction(app: { db: { transaction(work: () => Promise<void>): Promise<void> } }) {
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  let started = () => {}
  const inTransaction = new Promise<void>((resolve) => {
    started = resolve
  })
  const done = app.db.transaction(async () => {
    started()
    await held
  })
  await inTransaction
  return {
    release() {
      release()
      return done
    },
  }
}

async function scrape(app: Awaited<ReturnType<typeof buildApp>>) {
  const response = await app.inject('/metrics')
  expect(response.statusCode, response.body).toBe(200)
  expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
  return parseMetrics(response.body)
}

const itemOk = { method: 'GET', route: '/items/:id', status_code: '200' }

describe('/metrics', () => {
  test('serves the request, pool, migration and process families', async () => {
    const app = await buildApp()
    app.lifecycle.markReady()
    await app.inject('/items/1')
    const metrics = await scrape(app)
    for (const family of [
      'http_requests_total',
      'http_request_duration_seconds',
      'db_pool_connections_in_use',
      'db_pool_connections_idle',
      'db_pool_waiting',
      'db_pool_connections_max',
      'db_migrations',
      'db_migration_last_run_duration_seconds',
      'db_migration_last_run_applied',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(metrics.types.get(family), family).toBeDefined()
    expect(metrics.types.get('http_requests_total')).toBe('counter')
    expect(metrics.types.get('http_request_duration_seconds')).toBe('histogram')
    expect(sampleValue(metrics, 'db_migrations', { schema: 'demo', state: 'applied' })).toBe(2)
    expect(sampleValue(metrics, 'db_migrations', { schema: 'demo', state: 'pending' })).toBe(0)
    expect(sampleValue(metrics, 'db_pool_connections_max', {})).toBe(10)
    // No run in this process (runService records it): the family is there, without a sample.
    expect(metrics.samples.filter((s) => s.name.startsWith('db_migration_last_run'))).toEqual([])
    expect(sampleValue(metrics, 'process_resident_memory_bytes', {})).toBeGreaterThan(10 * 2 ** 20)
  })

  test('counts a request under its route pattern and status, and times it', async () => {
    const app = await buildApp()
    app.lifecycle.markReady()
    const before = await scrape(app)
    expect((await app.inject('/items/42')).statusCode).toBe(200)
    const after = await scrape(app)
    const count = (m: typeof after) => sampleValue(m, 'http_requests_total', itemOk) ?? 0
    expect(count(after) - count(before)).toBe(1)
    const histogramCount = (m: typeof after) =>
      sampleValue(m, 'http_request_duration_seconds_count', itemOk) ?? 0
    expect(histogramCount(after) - histogramCount(before)).toBe(1)
    expect(sampleValue(after, 'http_request_duration_seconds_bucket', { ...itemOk, le: '+Inf' })).toBe(
      histogramCount(after),
    )
    expect(sampleValue(after, 'http_request_duration_seconds_sum', itemOk)).toBeGreaterThan(0)
    // The pattern, never the URL: no series per id.
    expect(after.samples.some((s) => s.labels.route?.includes('42'))).toBe(false)
    // Scrapes do not count themselves.
    expect(after.samples.some((s) => s.labels.route === '/metrics')).toBe(false)
  })

  test('unknown URLs share one route label', async () => {
    const app = await buildApp()
    app.lifecycle.markReady()
    for (const url of ['/nope', '/wp-login.php', '/items/1/2', '/items/3/4']) await app.inject(url)
    const metrics = await scrape(app)
    expect(
      sampleValue(metrics, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }),
    ).toBe(4)
    const routes = new Set(
      metrics.samples.filter((s) => s.name === 'http_requests_total').map((s) => s.labels.route),
    )
    expect([...routes]).toEqual(['unmatched'])
  })

  test.each([
    ['2', 1, 'db_pipeline_connections_open', 'the shared connection'],
    ['0', 2, 'db_pool_connections_idle', 'two connections of the pool'],
  ])(
    'DB_PIPELINE_CONNECTIONS=%s: warmDatabase() opens, in the background, the %i connection(s) the first readiness probe uses (%s, %s)',
    async (pipeline, expected, gauge) => {
      const app = await buildApp({ DB_PIPELINE_CONNECTIONS: pipeline })
      const observer = new pg.Client({ connectionString: database.url })
      await observer.connect()
      // The app's connections: to this file's database (the other files' apps, named the same,
      // run meanwhile on theirs), opened since `since` (this file's earlier apps have theirs).
      const since = (await observer.query('SELECT now() AS t')).rows[0].t as Date
      const connections = async () =>
        Number(
          (
            await observer.query(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'demo' AND backend_start >= $1",
              [since],
            )
          ).rows[0].n,
        )
      try {
        expect(await connections()).toBe(0)
        // A start does not wait for it; here, until it is done: a probe while the shared
        // connection's first query is still unanswered would find it stalled and open the next.
        await app.warmDatabase()
        expect(await connections()).toBe(expected)
        expect((await app.metrics.registry!.getSingleMetric(gauge)!.get()).values[0]!.value).toBe(expected)
        app.lifecycle.markReady()
        expect((await app.inject('/readyz')).statusCode).toBe(200)
        // The probe's two checks ran on those: no other connection.
        expect(await connections()).toBe(expected)
      } finally {
        await observer.end()
      }
    },
  )

  test('the pool gauges are read at scrape time: in use, waiting, idle; a busy pool does not hold the scrape up', async () => {
    // Every query takes a connection of the pool, so the ledger's read waits for the only one.
    const app = await buildApp({ DB_POOL_MAX: '1', DB_PIPELINE_CONNECTIONS: '0' })
    app.lifecycle.markReady()
    // The first scrape's ledger read opens the connection; the next one finds it idle.
    await scrape(app)
    const idle = await scrape(app)
    expect(sampleValue(idle, 'db_pool_connections_max', {})).toBe(1)
    expect(sampleValue(idle, 'db_pool_connections_in_use', {})).toBe(0)
    expect(sampleValue(idle, 'db_pool_connections_idle', {})).toBe(1)

    const transaction = await holdTransaction(app)
    // Drizzle's queries run when awaited: then() queues this one now, behind the transaction.
    const queued = app.db.execute(sql`SELECT 1`).then(() => {})
    try {
      const startedAt = Date.now()
      const busy = await scrape(app)
      // The ledger query waits for the only connection: the scrape shows the last counts after 1 s.
      expect(Date.now() - startedAt).toBeLessThan(3000)
      expect(sampleValue(busy, 'db_pool_connections_in_use', {})).toBe(1)
      expect(sampleValue(busy, 'db_pool_connections_idle', {})).toBe(0)
      expect(sampleValue(busy, 'db_pool_waiting', {})).toBe(1)
      expect(sampleValue(busy, 'db_migrations', { schema: 'demo', state: 'applied' })).toBe(2)
    } finally {
      await transaction.release()
      await queued
    }
  })

  test("the shared connections' gauges; a transaction holding the pool holds up neither the queries outside it nor the scrape", async () => {
    const app = await buildApp({ DB_POOL_MAX: '1' })
    app.lifecycle.markReady()
    // The first scrape's ledger read opens the shared connection; the next one counts it.
    await scrape(app)
    const first = await scrape(app)
    expect(sampleValue(first, 'db_pipeline_connections_open', {})).toBe(1)
    expect(sampleValue(first, 'db_pipeline_queries_in_flight', {})).toBe(0)
    expect(sampleValue(first, 'db_pool_connections_in_use', {})).toBe(0)

    const transaction = await holdTransaction(app)
    // A second transaction waits for the pool's only connection; a query outside one does not.
    const waiting = app.db.transaction(async () => {})
    // Drizzle's queries run when awaited: then() writes this one now.
    const sleeping = app.db.execute(sql`SELECT pg_sleep(2)`).then(() => {})
    try {
      await new Promise((resolve) => setTimeout(resolve, 50))
      const startedAt = Date.now()
      const busy = await scrape(app)
      // The ledger was read now, not behind the sleeping query: on the next shared connection,
      // the first being stalled.
      expect(Date.now() - startedAt).toBeLessThan(1500)
      expect(sampleValue(busy, 'db_migrations', { schema: 'demo', state: 'applied' })).toBe(2)
      expect(sampleValue(busy, 'db_pool_connections_in_use', {})).toBe(1)
      expect(sampleValue(busy, 'db_pool_waiting', {})).toBe(1)
      expect(sampleValue(busy, 'db_pipeline_queries_in_flight', {})).toBe(1)
      expect((await app.db.execute(sql`SELECT 2 AS n`)).rows).toEqual([{ n: 2 }])
      expect(sampleValue(await scrape(app), 'db_pipeline_connections_open', {})).toBe(2)
    } finally {
      await transaction.release()
      await waiting
      await sleeping
    }
  })

  test('a pending migration shows as pending', async () => {
    const folder = path.join(mkdtempSync(path.join(tmpdir(), 'service-metrics-')), 'drizzle')
    writeMigrationsFolder(folder, [
      { statements: ['CREATE TABLE "demo"."items" ("id" integer);'] },
      { statements: ['ALTER TABLE "demo"."items" ADD COLUMN "name" text;'] },
      { statements: ['ALTER TABLE "demo"."items" ADD COLUMN "price" integer;'] },
    ])
    const app = await createServiceApp({
      name: 'demo',
      config: toServiceConfig(
        loadEnv(Type.Object(serviceEnv({ port: 1 })), { DATABASE_URL: database.url, LOG_LEVEL: 'silent' }),
      ),
      migrations: { schema: 'demo', folder },
      logger: false,
      docs: { title: 'Demo', version: '1.0.0', description: 'test app' },
    })
    try {
      const metrics = await scrape(app)
      expect(sampleValue(metrics, 'db_migrations', { schema: 'demo', state: 'applied' })).toBe(2)
      expect(sampleValue(metrics, 'db_migrations', { schema: 'demo', state: 'pending' })).toBe(1)
    } finally {
      await app.close()
    }
  })

  test('each app has its own registry: two apps in one process count apart', async () => {
    const first = await buildApp()
    const second = await buildApp()
    first.lifecycle.markReady()
    second.lifecycle.markReady()
    expect(first.metrics.registry).not.toBe(second.metrics.registry)
    for (let i = 0; i < 3; i++) await first.inject('/items/1')
    await second.inject('/items/1')
    expect(sampleValue(await scrape(first), 'http_requests_total', itemOk)).toBe(3)
    expect(sampleValue(await scrape(second), 'http_requests_total', itemOk)).toBe(1)
  })

  test('answers while the service is starting, when every API route answers 503', async () => {
    const app = await buildApp()
    const api = await app.inject('/items/1')
    expect(api.statusCode).toBe(503)
    expect(api.json()).toMatchObject({ code: 'SERVICE_STARTING' })
    const metrics = await scrape(app)
    expect(sampleValue(metrics, 'http_requests_total', { ...itemOk, status_code: '503' })).toBe(1)
  })

  test('is internal: hidden from the OpenAPI document, and not logged per request', async () => {
    const lines: Record<string, unknown>[] = []
    const app = await createServiceApp({
      name: 'demo',
      config: toServiceConfig(loadEnv(Type.Object(serviceEnv({ port: 1 })), { DATABASE_URL: database.url })),
      migrations: { schema: 'demo', folder: migrationsFolder },
      logger: { level: 'info', stream: { write: (line: string) => lines.push(JSON.parse(line)) } },
      docs: { title: 'Demo', version: '1.0.0', description: 'test app' },
    })
    try {
      app.lifecycle.markReady()
      expect((await app.inject('/metrics')).statusCode).toBe(200)
      await app.inject('/openapi.json')
      expect(lines.filter((line) => line.msg === 'request').map((line) => line.url)).toEqual([
        '/openapi.json',
      ])
      const document = (await app.inject('/openapi.json')).json()
      expect(Object.keys(document.paths)).not.toContain('/metrics')
    } finally {
      await app.close()
    }
  })

  test('METRICS_ENABLED=false: no /metrics, and nothing counted', async () => {
    const app = await buildApp({ METRICS_ENABLED: 'false' })
    app.lifecycle.markReady()
    expect(app.metrics.registry).toBeNull()
    expect((await app.inject('/items/1')).statusCode).toBe(200)
    expect((await app.inject('/metrics')).statusCode).toBe(404)
  })
})
