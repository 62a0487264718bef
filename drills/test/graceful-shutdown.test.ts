// SIGTERM with requests in flight. A test connection holds a lock on the table the
// requests write to, so they are provably inside the database when the signal
// arrives. Then: new requests are refused; once the lock goes, every in-flight
// request completes with its 2xx and its row; the pool is closed (its connections
// said goodbye to the server: none is left, none was abandoned); exit code 0.
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import {
  abandonedSessions,
  eventually,
  migratedDatabase,
  query,
  type ServiceName,
  sessionsOf,
} from './support/databases.js'
import { countFault, countRows, saveFigures } from './support/figures.js'
import { bearer, type DrillRequest, json, send } from './support/http.js'
import { killLeftovers, type ServiceProcess } from './support/service-process.js'
import { login, registerAdmin, startAuth, startBilling } from './support/stack.js'
import { newSigningKey } from './support/tokens.js'

const IN_FLIGHT = 5

afterAll(async () => {
  await killLeftovers()
  saveFigures(import.meta.filename)
})

interface Target {
  service: ServiceName
  /** The table the writes go to, locked by the drill. */
  table: string
  start(databaseUrl: string): Promise<{ target: ServiceProcess; write: (n: number) => DrillRequest }>
}

const targets: Target[] = [
  {
    service: 'auth',
    table: 'auth.users',
    async start(databaseUrl) {
      const target = await startAuth(databaseUrl, await newSigningKey())
      return {
        target,
        write: (n) => ({
          method: 'POST',
          path: '/auth/users',
          ...json({
            username: `inflight_${n}`,
            email: `inflight_${n}@example.com`,
            password: `in-flight-password-${n}`,
          }),
        }),
      }
    },
  },
  {
    service: 'billing',
    table: 'billing.subscriptions',
    async start(databaseUrl) {
      const auth = await startAuth(databaseUrl, await newSigningKey())
      const target = await startBilling(databaseUrl, auth.baseUrl)
      // An admin: creating plans takes billing:plans:write.
      const token = await login(auth, await registerAdmin(auth, databaseUrl))
      return {
        target,
        write: (n) => ({
          method: 'POST',
          path: '/billing/subscriptions',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify({ category: `in-flight ${n}`, priceMinor: 100 + n, currency: 'EUR' }),
        }),
      }
    },
  },
]

/** The outcome of a request that may be refused at the socket. */
async function attempt(target: ServiceProcess, request: DrillRequest) {
  try {
    const response = await send(target.baseUrl, request)
    return {
      status: response.status,
      code: response.text ? (response.json().code as string | undefined) : undefined,
    }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return { refused: cause?.code ?? String(error) }
  }
}

describe.each(targets)('$service', ({ service, table, start }) => {
  test('SIGTERM: in-flight requests complete, new ones are refused, the pool is closed, exit code 0', async () => {
    const database = await migratedDatabase(`shutdown_${service}`)
    const { target, write } = await start(database.url)
    const abandonedBefore = await abandonedSessions(database.url, database.name)

    const lock = new pg.Client({ connectionString: database.url, application_name: 'drills-lock' })
    await lock.connect()
    let inFlight: Promise<Awaited<ReturnType<typeof send>>>[]
    try {
      await lock.query('BEGIN')
      await lock.query(`LOCK TABLE ${table} IN SHARE MODE`)
      inFlight = Array.from({ length: IN_FLIGHT }, (_, n) => send(target.baseUrl, write(n)))
      // Every one of them is inside the database, waiting for the lock.
      await eventually(
        async () =>
          (await sessionsOf(database.url, database.name, service)).filter((s) => s.wait_event_type === 'Lock')
            .length === IN_FLIGHT,
        'the in-flight writes to wait on the lock',
      )

      countFault('SIGTERM with requests in flight')
      target.child.kill('SIGTERM')
      // New requests are refused (connection refused, or 503 on a kept-alive socket)...
      await eventually(async () => {
        const outcome = await attempt(target, { method: 'GET', path: '/healthz' })
        return 'refused' in outcome || outcome.status === 503
      }, 'new requests to be refused')
      // ...writes included, and they write nothing.
      const late = await attempt(target, write(IN_FLIGHT))
      expect('refused' in late || late.status === 503, JSON.stringify(late)).toBe(true)
      // While the in-flight ones are still waiting, and the process with them.
      expect(target.running).toBe(true)
    } finally {
      await lock.query('COMMIT')
      await lock.end()
    }

    const responses = await Promise.all(inFlight)
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 201))
    expect(await target.exited).toEqual({ code: 0, signal: null })

    // The pool closed its connections: none is left, and none ended without a goodbye.
    await eventually(
      async () => (await sessionsOf(database.url, database.name, service)).length === 0,
      `${service} sessions to end`,
    )
    expect(await abandonedSessions(database.url, database.name)).toBe(abandonedBefore)

    const ids = responses.map((r) => r.json<{ id: string }>().id)
    const rows = await query<{ id: string }>(
      database.url,
      `SELECT id FROM ${table} WHERE id = ANY($1::uuid[])`,
      [ids],
    )
    expect(countRows(ids.length, rows.length)).toBe(0)
    // The refused write left nothing behind.
    const total = await query<{ n: number }>(database.url, `SELECT count(*)::int AS n FROM ${table}`)
    expect(total[0]?.n).toBe(ids.length)
  })
})

test('SIGTERM with a drain period: /readyz answers 503 at once, requests are still served until it ends, then exit 0', async () => {
  const database = await migratedDatabase('drain')
  const target = await startAuth(database.url, await newSigningKey(), { env: { SHUTDOWN_DRAIN_MS: '1500' } })
  countFault('SIGTERM with a drain period')
  target.child.kill('SIGTERM')
  // The probes fail as soon as the process has handled the signal, so a load balancer takes the instance out...
  const readyz = await eventually(async () => {
    const response = await send(target.baseUrl, { method: 'GET', path: '/readyz' })
    return response.status === 503 && response
  }, '/readyz to answer 503')
  expect(readyz.json()).toEqual({ status: 'stopping', checks: {} })
  // ...while requests it still receives are answered, each closing its connection.
  const served: number[] = []
  for (let i = 0; i < 5; i++) {
    const response = await send(target.baseUrl, { method: 'GET', path: '/auth/.well-known/jwks.json' })
    served.push(response.status)
    expect(response.headers.get('connection')).toBe('close')
  }
  expect(served).toEqual([200, 200, 200, 200, 200])
  expect(target.running).toBe(true)
  expect(await target.exited).toEqual({ code: 0, signal: null })
  const log = target.logEntries().map((entry) => entry.msg)
  expect(log.some((msg) => /requests are served for 1500 ms more \(SHUTDOWN_DRAIN_MS\)/.test(msg))).toBe(true)
})
