// Replicas racing: 4 processes of each service, started at once against a database
// where only the bootstrap ran (roles and schemas, no table, no ledger). Every one
// becomes ready, each ledger holds every migration exactly once, exactly one
// replica applied each migration, and writes through every replica all land.

import { freePort } from '@app/db/embedded'
import { readMigrationFolder } from '@app/migrations'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { bootstrappedDatabase, query, type ServiceName, service } from './support/databases.js'
import { countRows, saveFigures } from './support/figures.js'
import { bearer, json, send } from './support/http.js'
import {
  killLeftovers,
  type ServiceProcess,
  startService,
  waitUntilReady,
} from './support/service-process.js'
import { authOptions, billingOptions, login, registerAdmin } from './support/stack.js'
import { newSigningKey } from './support/tokens.js'

const REPLICAS = 4

let adminUrl: string
let auths: ServiceProcess[]
let billings: ServiceProcess[]

beforeAll(async () => {
  adminUrl = (await bootstrappedDatabase('replicas')).url
  // Replicas share the signing key, as they would in production (a token from one verifies at all).
  const key = await newSigningKey()
  const authPorts = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()))
  const authUrl = `http://127.0.0.1:${authPorts[0]}`
  // All eight at once, with no waiting in between: they race for the same migrations.
  ;[auths, billings] = await Promise.all([
    Promise.all(authPorts.map((port) => startService(authOptions(adminUrl, key, { port })))),
    Promise.all(Array.from({ length: REPLICAS }, () => startService(billingOptions(adminUrl, authUrl)))),
  ])
})

afterAll(async () => {
  await killLeftovers()
  saveFigures(import.meta.filename)
})

test('every replica becomes ready', async () => {
  await Promise.all([...auths, ...billings].map((replica) => waitUntilReady(replica)))
  for (const replica of [...auths, ...billings]) {
    const response = await send(replica.baseUrl, { method: 'GET', path: '/readyz' })
    expect(response.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } })
  }
})

test.each(['auth', 'billing'] as const)(
  'the %s ledger holds every migration exactly once',
  async (name: ServiceName) => {
    const files = readMigrationFolder(service(name).migrationsFolder)
    expect(files.length).toBeGreaterThan(0)
    const rows = await query<{ hash: string; created_at: string }>(
      adminUrl,
      `SELECT hash, created_at FROM ${name}.__drizzle_migrations ORDER BY id`,
    )
    expect(rows.map((row) => ({ when: Number(row.created_at), hash: row.hash }))).toEqual(
      files.map((file) => ({ when: file.when, hash: file.hash })),
    )
  },
)

test.each(['auth', 'billing'] as const)(
  'exactly one %s replica applied each migration',
  (name: ServiceName) => {
    const replicas = name === 'auth' ? auths : billings
    const applied = replicas.flatMap((replica) =>
      replica
        .logEntries()
        .filter((entry) => typeof entry.migration === 'string' && /: applied /.test(entry.msg))
        .map((entry) => entry.migration as string),
    )
    const files = readMigrationFolder(service(name).migrationsFolder).map((file) => file.name)
    expect(applied.sort()).toEqual([...files].sort())
  },
)

test('writes through every replica all land: rows lost 0', async () => {
  const users = []
  const plans: string[] = []
  for (const [index, auth] of auths.entries()) {
    // Admins: creating plans takes billing:plans:write.
    const user = await registerAdmin(auth, adminUrl)
    users.push(user)
    // Logged in on one replica, the token works on the next one and on every billing.
    const token = await login(auths[(index + 1) % REPLICAS]!, user)
    const created = await send(billings[index]!.baseUrl, {
      method: 'POST',
      path: '/billing/subscriptions',
      headers: { ...bearer(token), ...json({}).headers },
      body: JSON.stringify({ category: `replica-${index}`, priceMinor: 100 + index, currency: 'EUR' }),
    })
    expect(created.status, created.text).toBe(201)
    plans.push(created.json<{ id: string }>().id)
  }
  const foundUsers = await query(adminUrl, 'SELECT id FROM auth.users WHERE id = ANY($1::uuid[])', [
    users.map((u) => u.id),
  ])
  const foundPlans = await query(
    adminUrl,
    'SELECT id FROM billing.subscriptions WHERE id = ANY($1::uuid[])',
    [plans],
  )
  expect(countRows(users.length + plans.length, foundUsers.length + foundPlans.length)).toBe(0)
})

test('every replica stops cleanly on SIGTERM: exit code 0', async () => {
  const exits = await Promise.all([...billings, ...auths].map((replica) => replica.stop()))
  expect(exits).toEqual(exits.map(() => ({ code: 0, signal: null })))
})
