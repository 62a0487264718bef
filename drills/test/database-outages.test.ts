// Database outages, on a PostgreSQL of the drill's own (the rest of the run keeps
// its server): down when a service starts (bounded retries with backoff, alive but
// not ready while waiting, a clear error and a non-zero exit when it gives up, or
// ready once the database comes), and restarted under load (503 DB_UNAVAILABLE
// during the outage, recovery without restarting the service, no acknowledged row
// lost).
import { bootstrapServices, discoverServices } from '@app/migrations/authoring'
import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { eventually, query } from './support/databases.js'
import { countFault, countRows, saveFigures } from './support/figures.js'
import { bearer, json, send } from './support/http.js'
import { type OwnPostgres, ownPostgres } from './support/own-postgres.js'
import {
  killLeftovers,
  type ServiceProcess,
  startService,
  waitUntilReady,
} from './support/service-process.js'
import { authOptions, billingOptions, login, newUser, registerAdmin } from './support/stack.js'
import { newSigningKey, type SigningKey } from './support/tokens.js'

let server: OwnPostgres
let adminUrl: string
let key: SigningKey

beforeAll(async () => {
  server = await ownPostgres()
  const admin = new pg.Client({ connectionString: server.url() })
  await admin.connect()
  await admin.query('CREATE DATABASE drills')
  await admin.end()
  adminUrl = server.url('drills')
  await bootstrapServices(adminUrl, discoverServices(), {})
  key = await newSigningKey()
  await server.stop()
})

afterAll(async () => {
  await killLeftovers()
  await server?.destroy()
  saveFigures(import.meta.filename)
})

const RETRY = /database not reachable \((.*)\), retry (\d+) in (\d+) ms/

function retries(service: ServiceProcess) {
  return service
    .logEntries()
    .map((entry) => RETRY.exec(entry.msg))
    .filter((match) => match !== null)
    .map((match) => ({ attempt: Number(match[2]), delayMs: Number(match[3]) }))
}

test('down at startup for good: retries with growing delays, then a clear error and exit code 1', async () => {
  countFault('database down at startup')
  const auth = await startService(authOptions(adminUrl, key, { env: { DB_CONNECT_TIMEOUT_MS: '4000' } }))
  const exit = await auth.exited
  expect(exit).toEqual({ code: 1, signal: null })

  const waits = retries(auth)
  expect(waits.length).toBeGreaterThanOrEqual(3)
  expect(waits.map((w) => w.attempt)).toEqual(waits.map((_, i) => i + 1))
  // Backoff: each delay at least the one before, and they grow (capped, and never past the deadline).
  for (let i = 1; i < waits.length - 1; i++)
    expect(waits[i]!.delayMs).toBeGreaterThanOrEqual(waits[i - 1]!.delayMs)
  expect(waits[waits.length - 2]!.delayMs).toBeGreaterThan(waits[0]!.delayMs)

  const fatal = auth.logEntries().filter((entry) => entry.level >= 60)
  expect(fatal).toHaveLength(1)
  expect(fatal[0]!.msg).toMatch(
    new RegExp(
      `auth: cannot start: Postgres at auth@127\\.0\\.0\\.1:${server.port}/drills is unreachable: gave up after \\d+ attempts`,
    ),
  )
  // The role's password appears nowhere in what it printed.
  expect(auth.lines.filter((line) => line.includes('auth-dev-password'))).toEqual([])
})

let auth: ServiceProcess
let billing: ServiceProcess

test('down at startup, then back: alive and not ready while waiting, ready without a restart', async () => {
  countFault('database down at startup')
  const patient = { env: { DB_CONNECT_TIMEOUT_MS: '600000' } }
  auth = await startService(authOptions(adminUrl, key, patient))
  billing = await startService(billingOptions(adminUrl, auth.baseUrl, patient))
  for (const service of [auth, billing]) {
    // Waiting for the database, not stuck somewhere else.
    await eventually(async () => retries(service).length >= 2, `${service.name} to retry the database`)
    expect((await send(service.baseUrl, { method: 'GET', path: '/healthz' })).status).toBe(200)
    const ready = await send(service.baseUrl, { method: 'GET', path: '/readyz' })
    expect({ status: ready.status, body: ready.json() }).toEqual({
      status: 503,
      body: { status: 'starting', checks: {} },
    })
    const path = service === auth ? '/auth/users/me' : '/billing/subscriptions'
    const api = await send(service.baseUrl, { method: 'GET', path })
    expect(api.status).toBe(503)
    expect(api.json().code).toBe('SERVICE_STARTING')
  }

  await server.start()
  await Promise.all([waitUntilReady(auth), waitUntilReady(billing)])
  expect([auth.running, billing.running]).toEqual([true, true])
})

interface Outcome {
  service: string
  phase: Phase
  status: number
  code?: string
  error?: string
}

type Phase = 'before' | 'stopping' | 'down' | 'starting' | 'after'

test('restarted under load: 503 DB_UNAVAILABLE during the outage, recovery without a restart, rows lost 0', async () => {
  // An admin: the load creates plans (billing:plans:write).
  const user = await registerAdmin(auth, adminUrl)
  const token = await login(auth, user)
  const acknowledged = { users: [user.id], plans: [] as string[] }
  const outcomes: Outcome[] = []
  let phase: Phase = 'before'
  let running = true

  // Each request, with the phase it was sent and answered in ('stopping' or 'starting'
  // when those differ: it straddled a transition).
  const operations = [
    async () => {
      const body = newUser()
      const response = await send(auth.baseUrl, { method: 'POST', path: '/auth/users', ...json(body) })
      if (response.status === 201) acknowledged.users.push(response.json<{ id: string }>().id)
      return { service: 'auth', response }
    },
    async () => ({
      service: 'auth',
      response: await send(auth.baseUrl, { method: 'GET', path: '/auth/users/me', headers: bearer(token) }),
    }),
    async () => {
      const response = await send(billing.baseUrl, {
        method: 'POST',
        path: '/billing/subscriptions',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify({ category: `load-${outcomes.length}`, priceMinor: 500, currency: 'EUR' }),
      })
      if (response.status === 201) acknowledged.plans.push(response.json<{ id: string }>().id)
      return { service: 'billing', response }
    },
    async () => ({
      service: 'billing',
      response: await send(billing.baseUrl, { method: 'GET', path: '/billing/subscriptions?limit=5' }),
    }),
  ]
  const worker = async (offset: number) => {
    for (let i = offset; running; i++) {
      const sentIn = phase
      try {
        const { service, response } = await operations[i % operations.length]!()
        const answeredIn = phase
        outcomes.push({
          service,
          phase: sentIn === answeredIn ? sentIn : sentIn === 'before' ? 'stopping' : 'starting',
          status: response.status,
          ...(response.status >= 400 ? { code: response.json().code as string } : {}),
        })
      } catch (error) {
        outcomes.push({
          service: '?',
          phase: sentIn,
          status: 0,
          error: String((error as Error).cause ?? error),
        })
      }
    }
  }
  const count = (wanted: Phase, ok?: boolean) =>
    outcomes.filter((o) => o.phase === wanted && (ok === undefined || o.status < 300 === ok)).length

  const load = Promise.all([0, 1, 2, 3].map(worker))
  await eventually(async () => count('before', true) >= 20, 'load to be served')

  phase = 'stopping'
  await server.stop({ fault: 'database restarted under load' })
  phase = 'down'
  await eventually(async () => count('down') >= 12, 'requests during the outage')
  for (const service of [auth, billing]) {
    const ready = await send(service.baseUrl, { method: 'GET', path: '/readyz' })
    expect({ status: ready.status, body: ready.json() }).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { database: 'failing', migrations: 'failing' } },
    })
  }

  phase = 'starting'
  await server.start()
  phase = 'after'
  await eventually(
    async () => outcomes.filter((o) => o.phase === 'after' && o.status < 300).length >= 20,
    'the services to recover',
  )
  running = false
  await load

  // No request failed at the socket: the services stayed up throughout, never restarted.
  expect(outcomes.filter((o) => o.status === 0)).toEqual([])
  expect([auth.running, billing.running]).toEqual([true, true])
  // During the outage, every answer was 503 DB_UNAVAILABLE (with Retry-After, see errors.ts).
  const down = outcomes.filter((o) => o.phase === 'down')
  expect(down.map((o) => `${o.status} ${o.code}`)).toEqual(down.map(() => '503 DB_UNAVAILABLE'))
  // Around the transitions too: success, or 503 DB_UNAVAILABLE, never a 500.
  const odd = outcomes.filter((o) => o.status >= 300 && !(o.status === 503 && o.code === 'DB_UNAVAILABLE'))
  expect(odd).toEqual([])
  // Both services answer again, and are ready.
  expect(outcomes.filter((o) => o.phase === 'after' && o.status < 300).map((o) => o.service)).toEqual(
    expect.arrayContaining(['auth', 'billing']),
  )
  for (const service of [auth, billing]) {
    expect((await send(service.baseUrl, { method: 'GET', path: '/readyz' })).status).toBe(200)
  }

  const users = await query(adminUrl, 'SELECT id FROM auth.users WHERE id = ANY($1::uuid[])', [
    acknowledged.users,
  ])
  const plans = await query(adminUrl, 'SELECT id FROM billing.subscriptions WHERE id = ANY($1::uuid[])', [
    acknowledged.plans,
  ])
  expect(acknowledged.plans.length).toBeGreaterThan(0)
  expect(countRows(acknowledged.users.length + acknowledged.plans.length, users.length + plans.length)).toBe(
    0,
  )

  // The failed writes were logged (503s are), but not with their values: no password hash.
  expect(auth.lines.filter((line) => line.includes('failed:')).length).toBeGreaterThan(0)
  expect([...auth.lines, ...billing.lines].filter((line) => line.includes('$argon2'))).toEqual([])

  // After an outage in mid-transaction, shutdown is still clean: no connection was leaked.
  expect(await billing.stop()).toEqual({ code: 0, signal: null })
  expect(await auth.stop()).toEqual({ code: 0, signal: null })
})
