// Rolling deploys under steady load, in the production topology: HAProxy checking
// /readyz in front of 3 auth and 3 billing replicas, PgBouncer in transaction mode
// behind them, and an open-loop mix of reads, writes and logins (150 requests/s).
//
// 1. Every replica is replaced, one at a time, by the next release (its code with one
//    additive migration per service, applied by the first new replica while the old
//    ones still serve): 0 failed requests, every acknowledged write in the database.
// 2. auth's signing key is rotated in the documented steps (publish the new key,
//    then sign with it), each a rolling restart of auth: tokens issued before the
//    rotation keep working at billing and auth, new ones work everywhere, 0
//    unexpected 401s.
import { createPublicKey, randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '@app/db/embedded'
import { promoteToAdmin } from '@app/testkit'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { query, type ServiceName } from './support/databases.js'
import { countRows, saveFigures } from './support/figures.js'
import { type Haproxy, startHaproxy } from './support/haproxy.js'
import { bearer, type DrillResponse, form, json, send } from './support/http.js'
import { describeLoad, type LoadRequest, steadyLoad } from './support/load.js'
import { copyServiceWithMigrations, type ServiceCopy } from './support/service-copy.js'
import {
  killLeftovers,
  type ServiceProcess,
  type StartOptions,
  startService,
  waitUntilReady,
} from './support/service-process.js'
import { authOptions, billingOptions, newUser } from './support/stack.js'
import { newSigningKey, type SigningKey } from './support/tokens.js'
import { POOLER_ENV, type PooledDatabase, pooledDatabase } from './support/topology.js'

const REPLICAS = 3
const RATE = 150
// Long enough for HAProxy (a check every 250 ms, out after two failures) to stop routing first.
const DRAIN_MS = '2500'
// billing fetches auth's keys again on an unknown kid at most this often (AUTH_JWKS_COOLDOWN_MS).
const JWKS_COOLDOWN_MS = 2000
// Six replicas replaced one after another, each drained, started and checked back in:
// about 30 s alone on a 2-core machine, several times that beside the other packages'
// tests. A hang guard, not a speed check.
const ROLL_TIMEOUT_MS = 300_000

let pooled: PooledDatabase
let haproxy: Haproxy
const ports: Record<ServiceName, number[]> = { auth: [], billing: [] }
const replicas: Record<ServiceName, ServiceProcess[]> = { auth: [], billing: [] }
const copies: ServiceCopy[] = []
let nextRelease: Record<ServiceName, string>
const k1Key = await newSigningKey()

interface Seeded {
  users: { id: string; username: string; password: string; token: string }[]
  plans: string[]
  /** (user, plan) pairs not subscribed yet, shuffled: one active subscription per pair. */
  pairs: { user: Seeded['users'][number]; plan: string }[]
}

function errorCode(response: DrillResponse): string | undefined {
  try {
    return response.json<{ code?: string }>().code
  } catch {
    return undefined
  }
}
let seeded: Seeded

function replicaOptions(name: ServiceName, port: number, env: Record<string, string> = {}): StartOptions {
  const shared = { ...POOLER_ENV, SHUTDOWN_DRAIN_MS: DRAIN_MS, ...env }
  const options =
    name === 'auth'
      ? authOptions(pooled.database.url, k1Key, { port, env: shared })
      : billingOptions(pooled.database.url, haproxy.url('auth'), {
          port,
          env: { AUTH_JWKS_COOLDOWN_MS: String(JWKS_COOLDOWN_MS), ...shared },
        })
  return { ...options, ...pooled.connections(name) }
}

/** HAProxy's log lines for requests that did not end normally (termination state other than ----), for a failing drill's message. */
function abnormalProxyLines(): string {
  const abnormal = haproxy.logLines.filter((line) => {
    const state = / - - (\S{4}) \d+\/\d+\//.exec(line)?.[1]
    return state !== undefined && state !== '----'
  })
  // The whole log, for a failure the filter does not explain.
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'drills-haproxy-log-')), 'haproxy.log')
  writeFileSync(file, `${haproxy.logLines.join('\n')}\n`)
  return `HAProxy's abnormal request lines (whole log in ${file}):\n${abnormal.slice(-30).join('\n')}`
}

/** Replaces replica `index` of a service: SIGTERM (drain, exit), then the new one on the same port, ready and back in rotation. */
async function replace(name: ServiceName, index: number, options: StartOptions): Promise<void> {
  const old = replicas[name][index]!
  expect(await old.stop()).toEqual({ code: 0, signal: null })
  const next = await startService(options)
  replicas[name][index] = next
  await waitUntilReady(next)
  await haproxy.waitForState(name, `${name}${index}`, 'UP')
}

async function seed(): Promise<Seeded> {
  const auth = haproxy.url('auth')
  const users: Seeded['users'] = []
  for (let i = 0; i < 30; i++) {
    const user = newUser()
    const created = await send(auth, { method: 'POST', path: '/auth/users', ...json(user) })
    expect(created.status, created.text).toBe(201)
    // The first user is an admin (as make admin makes one): it creates the plans.
    if (i === 0) await promoteToAdmin(pooled.database.url, user.username)
    const login = await send(auth, {
      method: 'POST',
      path: '/auth/token',
      ...form({ username: user.username, password: user.password }),
    })
    expect(login.status, login.text).toBe(200)
    users.push({
      ...user,
      id: created.json<{ id: string }>().id,
      token: login.json<{ access_token: string }>().access_token,
    })
  }
  const plans: string[] = []
  // A few plans through the API, the rest in one statement: the load subscribes each
  // user to each plan at most once (one active subscription per pair), and two drills at
  // 150 requests/s must not run out of pairs however slow a loaded machine makes them.
  for (let i = 0; i < 5; i++) {
    const plan = await send(haproxy.url('billing'), {
      method: 'POST',
      path: '/billing/subscriptions',
      headers: { ...bearer(users[0]!.token), ...json({}).headers },
      body: JSON.stringify({ category: `rolling-${i}`, priceMinor: 100 + i, currency: 'EUR' }),
    })
    expect(plan.status, plan.text).toBe(201)
    plans.push(plan.json<{ id: string }>().id)
  }
  const inserted = await query<{ id: string }>(
    pooled.database.url,
    `INSERT INTO billing.subscriptions (category, price_minor, currency)
     SELECT 'rolling-' || n, 100 + n, 'EUR' FROM generate_series(5, 299) AS n RETURNING id`,
  )
  plans.push(...inserted.map((row) => row.id))
  const pairs = users.flatMap((user) => plans.map((plan) => ({ user, plan })))
  pairs.sort(() => Math.random() - 0.5)
  return { users, plans, pairs }
}

/** The traffic of both drills; written rows are remembered to be found in the database afterwards. */
function mixedLoad(written: { users: string[]; subscriptions: string[] }) {
  const auth = haproxy.url('auth')
  const billing = haproxy.url('billing')
  const anyUser = () => seeded.users[Math.floor(Math.random() * seeded.users.length)]!
  const status = async (sent: Promise<DrillResponse>) => {
    const response = await sent
    return { status: response.status, code: response.status >= 400 ? errorCode(response) : undefined }
  }
  const mix: LoadRequest[] = [
    {
      name: 'GET /auth/users/me',
      weight: 30,
      expect: [200],
      run: () =>
        status(send(auth, { method: 'GET', path: '/auth/users/me', headers: bearer(anyUser().token) })),
    },
    {
      name: 'GET /billing/user-subscriptions',
      weight: 30,
      expect: [200],
      run: () =>
        status(
          send(billing, {
            method: 'GET',
            path: '/billing/user-subscriptions',
            headers: bearer(anyUser().token),
          }),
        ),
    },
    {
      name: 'GET /billing/subscriptions',
      weight: 15,
      expect: [200],
      run: () => status(send(billing, { method: 'GET', path: '/billing/subscriptions?limit=5' })),
    },
    {
      name: 'POST /billing/user-subscriptions',
      weight: 15,
      expect: [201],
      async run() {
        const pair = seeded.pairs.pop()!
        const response = await send(billing, {
          method: 'POST',
          path: '/billing/user-subscriptions',
          headers: { ...bearer(pair.user.token), ...json({}).headers, 'idempotency-key': randomUUID() },
          body: JSON.stringify({ subscriptionId: pair.plan }),
        })
        if (response.status === 201) written.subscriptions.push(response.json<{ id: string }>().id)
        return status(Promise.resolve(response))
      },
    },
    {
      name: 'POST /auth/users',
      weight: 5,
      expect: [201],
      async run() {
        const response = await send(auth, { method: 'POST', path: '/auth/users', ...json(newUser()) })
        if (response.status === 201) written.users.push(response.json<{ id: string }>().id)
        return status(Promise.resolve(response))
      },
    },
    {
      name: 'POST /auth/token',
      weight: 5,
      expect: [200],
      async run() {
        const user = anyUser()
        const response = await send(auth, {
          method: 'POST',
          path: '/auth/token',
          ...form({ username: user.username, password: user.password }),
        })
        // Later requests use the newest token: during a key rotation, one signed by the new key.
        if (response.status === 200) user.token = response.json<{ access_token: string }>().access_token
        return status(Promise.resolve(response))
      },
    },
  ]
  return steadyLoad({ ratePerSecond: RATE, mix })
}

async function writesLost(written: { users: string[]; subscriptions: string[] }): Promise<number> {
  const users = await query(pooled.database.url, 'SELECT id FROM auth.users WHERE id = ANY($1::uuid[])', [
    written.users,
  ])
  const subscriptions = await query(
    pooled.database.url,
    'SELECT id FROM billing.user_subscriptions WHERE id = ANY($1::uuid[])',
    [written.subscriptions],
  )
  return countRows(written.users.length + written.subscriptions.length, users.length + subscriptions.length)
}

beforeAll(async () => {
  pooled = await pooledDatabase('rolling')
  for (const name of ['auth', 'billing'] as const) {
    ports[name] = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()))
  }
  haproxy = await startHaproxy({
    // Out after two failed checks, not one: on a busy machine a single slow /readyz (a
    // database round trip through the pooler) must not take every replica out at once.
    fall: 2,
    frontends: (['auth', 'billing'] as const).map((name) => ({
      name,
      servers: ports[name].map((port, index) => ({ name: `${name}${index}`, port })),
    })),
  })
  for (const name of ['auth', 'billing'] as const) {
    replicas[name] = await Promise.all(ports[name].map((port) => startService(replicaOptions(name, port))))
    await Promise.all(replicas[name].map((replica) => waitUntilReady(replica)))
    await Promise.all(replicas[name].map((_, index) => haproxy.waitForState(name, `${name}${index}`, 'UP')))
  }
  // The next release of each service: its code plus one additive migration.
  const auth = copyServiceWithMigrations('auth', [
    {
      tag: '9300_drill_rolling_nickname',
      statements: ['ALTER TABLE "auth"."users" ADD COLUMN "drill_nickname" text'],
    },
  ])
  const billing = copyServiceWithMigrations('billing', [
    {
      tag: '9300_drill_rolling_note',
      statements: ['ALTER TABLE "billing"."subscriptions" ADD COLUMN "drill_note" text'],
    },
  ])
  copies.push(auth, billing)
  nextRelease = { auth: auth.dir, billing: billing.dir }
  seeded = await seed()
})

afterAll(async () => {
  await killLeftovers()
  for (const copy of copies) copy.remove()
  saveFigures(import.meta.filename)
})

test(
  'every replica replaced one by one by the next release (an additive migration mid-roll), under load: 0 failed requests',
  async () => {
    const written = { users: [] as string[], subscriptions: [] as string[] }
    const load = mixedLoad(written)
    for (const name of ['auth', 'billing'] as const) {
      for (let index = 0; index < REPLICAS; index++) {
        await replace(name, index, { ...replicaOptions(name, ports[name][index]!), dir: nextRelease[name] })
      }
    }
    const report = await load.stop()
    console.log(`rolling restart of ${2 * REPLICAS} replicas: ${describeLoad(report)}`)
    expect(report.failures, abnormalProxyLines()).toEqual([])
    expect(report.ok).toBeGreaterThan(RATE * 5)
    // The first new replica of each applied its migration, while the old ones served.
    const [column] = await query<{ n: number }>(
      pooled.database.url,
      `SELECT count(*)::int AS n FROM information_schema.columns
      WHERE (table_schema, table_name, column_name) IN (('auth', 'users', 'drill_nickname'), ('billing', 'subscriptions', 'drill_note'))`,
    )
    expect(column!.n).toBe(2)
    expect(await writesLost(written)).toBe(0)
  },
  ROLL_TIMEOUT_MS,
)

test(
  'the signing key rotated in two rolling restarts under load: earlier tokens keep working, 0 unexpected 401s',
  async () => {
    const k2Key: SigningKey = await newSigningKey()
    const publicPem = (key: SigningKey) =>
      createPublicKey(key.privateKey).export({ format: 'pem', type: 'spki' }).toString()
    const written = { users: [] as string[], subscriptions: [] as string[] }
    // Tokens signed by the current key (K1) before the rotation, kept aside and used at the end.
    const before = seeded.users.slice(0, 5).map((user) => user.token)
    const load = mixedLoad(written)
    const rollAuth = async (env: Record<string, string>) => {
      for (let index = 0; index < REPLICAS; index++) {
        await replace('auth', index, {
          ...replicaOptions('auth', ports.auth[index]!, env),
          dir: nextRelease.auth,
        })
      }
    }
    // 1. Publish K2 everywhere (it signs nothing yet).
    await rollAuth({ AUTH_JWT_VERIFY_KEYS: publicPem(k2Key) })
    // billing refetches keys on an unknown kid only once its last fetch is older than its cooldown.
    await new Promise((resolve) => setTimeout(resolve, JWKS_COOLDOWN_MS + 500))
    // 2. Sign with K2; K1 only verifies.
    await rollAuth({ AUTH_JWT_PRIVATE_KEY: k2Key.pem, AUTH_JWT_VERIFY_KEYS: k1Key.pem })
    const report = await load.stop()
    console.log(`key rotation, ${2 * REPLICAS} auth restarts: ${describeLoad(report)}`)
    expect(report.failures, abnormalProxyLines()).toEqual([])
    expect(await writesLost(written)).toBe(0)

    const jwks = await send(haproxy.url('auth'), { method: 'GET', path: '/auth/.well-known/jwks.json' })
    expect(jwks.json<{ keys: { kid: string }[] }>().keys.map((key) => key.kid)).toEqual([
      k2Key.kid,
      k1Key.kid,
    ])
    // A token from before the rotation still works at auth and billing; a new login is signed by K2.
    for (const token of before) {
      expect(
        (await send(haproxy.url('auth'), { method: 'GET', path: '/auth/users/me', headers: bearer(token) }))
          .status,
      ).toBe(200)
      expect(
        (
          await send(haproxy.url('billing'), {
            method: 'GET',
            path: '/billing/user-subscriptions',
            headers: bearer(token),
          })
        ).status,
      ).toBe(200)
    }
    const user = seeded.users[0]!
    const login = await send(haproxy.url('auth'), {
      method: 'POST',
      path: '/auth/token',
      ...form({ username: user.username, password: user.password }),
    })
    const header = JSON.parse(
      Buffer.from(login.json<{ access_token: string }>().access_token.split('.')[0]!, 'base64url').toString(),
    )
    expect(header.kid).toBe(k2Key.kid)
  },
  ROLL_TIMEOUT_MS,
)
