// Behind a transaction-mode pooler: PgBouncer (Debian's 1.18, stock settings,
// default_pool_size 4) between every service process and PostgreSQL for requests (the
// runtime roles); billing's migrations (the owner) go through it too, which works for
// transactional migrations, while auth's go directly to PostgreSQL, as the README
// recommends: its 0004 runs without a transaction, and a transaction pooler cannot
// carry that (the runner refuses, and nothing of the file is applied).
//
// 8 auth and 8 billing replicas start at once on an empty, freshly bootstrapped
// database, several rounds: all become ready, each migration is applied exactly
// once by exactly one replica, no advisory lock is left, the server connections
// stay within the pool size, and register, log in and subscribe work through the
// pooler. A query slower than the runtime role's statement timeout fails at the
// timeout through the pooler; the migrations' settings never reach another client;
// and killing the replica that holds a migration's lock lets the others finish.
import { randomUUID } from 'node:crypto'
import { freePort } from '@app/db/embedded'
import { migrate, readMigrationFolder } from '@app/migrations'
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { eventually, query, service } from './support/databases.js'
import { countFault, countRows, saveFigures } from './support/figures.js'
import { bearer, json, send } from './support/http.js'
import { copyServiceWithMigrations } from './support/service-copy.js'
import {
  killLeftovers,
  type ServiceProcess,
  startService,
  waitUntilReady,
} from './support/service-process.js'
import { authOptions, billingOptions, login, registerAdmin } from './support/stack.js'
import { newSigningKey, type SigningKey } from './support/tokens.js'
import { POOLER_ENV, type PooledDatabase, pooledDatabase } from './support/topology.js'

const REPLICAS = 8
const ROUNDS = 3
const POOL_SIZE = 4
const ROLES = ['auth', 'auth_app', 'billing', 'billing_app']
/** The roles whose server connections PgBouncer opens: auth's owner migrates directly. */
const POOLED_ROLES = ['auth_app', 'billing', 'billing_app']

afterAll(async () => {
  await killLeftovers()
  saveFigures(import.meta.filename)
})

/** The most server connections each role had open at once, sampled until stopped. */
function watchServerConnections(adminUrl: string, database: string) {
  const most: Record<string, number> = {}
  let running = true
  const sampling = (async () => {
    const client = new pg.Client({ connectionString: adminUrl, application_name: 'drills-watch' })
    await client.connect()
    try {
      while (running) {
        const { rows } = await client.query<{ role: string; n: number }>(
          `SELECT usename AS role, count(*)::int AS n FROM pg_stat_activity
            WHERE datname = $1 AND usename = ANY($2) GROUP BY usename`,
          [database, ROLES],
        )
        for (const { role, n } of rows) most[role] = Math.max(most[role] ?? 0, n)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    } finally {
      await client.end()
    }
  })()
  return {
    async stop() {
      running = false
      await sampling
      return most
    },
  }
}

function appliedBy(replicas: ServiceProcess[]): string[] {
  return replicas
    .flatMap((replica) =>
      replica
        .logEntries()
        .filter((entry) => typeof entry.migration === 'string' && /: applied /.test(entry.msg))
        .map((entry) => entry.migration as string),
    )
    .sort()
}

async function advisoryLocks(adminUrl: string, database: string): Promise<number> {
  const [row] = await query<{ n: number }>(
    adminUrl,
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = $1)`,
    [database],
  )
  return row!.n
}

function startAuth(pooled: PooledDatabase, key: SigningKey, port?: number): Promise<ServiceProcess> {
  const options = authOptions(pooled.database.url, key, { env: POOLER_ENV, ...(port ? { port } : {}) })
  return startService({ ...options, ...pooled.connections('auth') })
}

function startBilling(pooled: PooledDatabase, authUrl: string): Promise<ServiceProcess> {
  const options = billingOptions(pooled.database.url, authUrl, { env: POOLER_ENV })
  return startService({ ...options, ...pooled.connections('billing', { migrations: 'pooler' }) })
}

describe(`${REPLICAS} auth + ${REPLICAS} billing replicas at once through PgBouncer (transaction mode, pool ${POOL_SIZE})`, () => {
  let lastRound: PooledDatabase | undefined

  test(`${ROUNDS} rounds on empty databases: all ready, every migration once, no lock left, connections within the pool, the API works`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const pooled = await pooledDatabase(`pooler_${round}`, {
        defaultPoolSize: POOL_SIZE,
        bootstrapEnv: { AUTH_STATEMENT_TIMEOUT: '2s', BILLING_STATEMENT_TIMEOUT: '2s' },
      })
      lastRound = pooled
      const { database } = pooled
      const watch = watchServerConnections(database.url, database.name)
      const key = await newSigningKey()
      const authPorts = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()))
      const authUrl = `http://127.0.0.1:${authPorts[0]}`
      // All sixteen at once, with no waiting in between: they race for the same migrations.
      const [auths, billings] = await Promise.all([
        Promise.all(authPorts.map((port) => startAuth(pooled, key, port))),
        Promise.all(Array.from({ length: REPLICAS }, () => startBilling(pooled, authUrl))),
      ])
      try {
        await Promise.all([...auths, ...billings].map((replica) => waitUntilReady(replica)))

        for (const [name, replicas] of [
          ['auth', auths],
          ['billing', billings],
        ] as const) {
          const files = readMigrationFolder(service(name).migrationsFolder)
          const rows = await query<{ hash: string; created_at: string }>(
            database.url,
            `SELECT hash, created_at FROM ${name}.__drizzle_migrations ORDER BY id`,
          )
          expect(rows.map((row) => ({ when: Number(row.created_at), hash: row.hash }))).toEqual(
            files.map((file) => ({ when: file.when, hash: file.hash })),
          )
          expect(appliedBy(replicas)).toEqual(files.map((file) => file.name).sort())
        }
        expect(await advisoryLocks(database.url, database.name)).toBe(0)

        // Through the pooler, across replicas: register on one, log in on another, create a
        // plan and subscribe on two billing replicas.
        // An admin (as make admin makes one): creating a plan takes billing:plans:write.
        const user = await registerAdmin(auths[round % REPLICAS]!, database.url)
        const token = await login(auths[(round + 3) % REPLICAS]!, user)
        const plan = await send(billings[round % REPLICAS]!.baseUrl, {
          method: 'POST',
          path: '/billing/subscriptions',
          headers: { ...bearer(token), ...json({}).headers },
          body: JSON.stringify({ category: `pooled-${round}`, priceMinor: 990, currency: 'EUR' }),
        })
        expect(plan.status, plan.text).toBe(201)
        const subscription = await send(billings[(round + 5) % REPLICAS]!.baseUrl, {
          method: 'POST',
          path: '/billing/user-subscriptions',
          headers: { ...bearer(token), ...json({}).headers, 'idempotency-key': randomUUID() },
          body: JSON.stringify({ subscriptionId: plan.json<{ id: string }>().id }),
        })
        expect(subscription.status, subscription.text).toBe(201)
        const found = await query(
          database.url,
          'SELECT 1 FROM billing.user_subscriptions WHERE user_id = $1',
          [user.id],
        )
        expect(countRows(1, found.length)).toBe(0)

        const exits = await Promise.all([...billings, ...auths].map((replica) => replica.stop()))
        expect(exits).toEqual(exits.map(() => ({ code: 0, signal: null })))
      } finally {
        await Promise.all([...billings, ...auths].map((replica) => replica.stop()))
      }
      const most = await watch.stop()
      console.log(`round ${round}: most server connections at once per role: ${JSON.stringify(most)}`)
      for (const role of POOLED_ROLES) expect(most[role] ?? 0).toBeLessThanOrEqual(POOL_SIZE)
      // Billing's owner (migrations) and the runtime roles (readiness, requests) went through
      // it; auth's owner connected directly.
      expect(Object.keys(most).sort()).toEqual([...ROLES].sort())
      if (round < ROUNDS) await pooled.pgbouncer.stop()
    }
  })

  test("a query slower than the runtime role's statement timeout fails at the timeout, through the pooler", async () => {
    const pooled = lastRound!
    const client = new pg.Client({ connectionString: pooled.roleUrl('auth_app') })
    await client.connect()
    try {
      const started = performance.now()
      const error = await client.query('SELECT pg_sleep(20)').catch((e: unknown) => e)
      const elapsedMs = performance.now() - started
      expect(error).toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' })
      console.log(
        `SELECT pg_sleep(20) as auth_app through PgBouncer: canceled after ${Math.round(elapsedMs)} ms`,
      )
      expect(elapsedMs).toBeLessThan(20_000)
      // The role's own setting, not something this client sent: it holds on every server connection.
      const { rows } = await client.query<{ source: string; setting: string }>(
        "SELECT source, setting FROM pg_settings WHERE name = 'statement_timeout'",
      )
      expect(rows[0]).toEqual({ source: 'database user', setting: '2000' })
    } finally {
      await client.end()
    }
  })

  test("the migrations' settings (statement_timeout, lock_timeout, search_path) never reach another client", async () => {
    const pooled = lastRound!
    const { database } = pooled
    // Billing's owner role's server connections: the ones 8 replicas' migrations just used
    // through the pooler (the owner does nothing else), up to the pool's size.
    const used = await query<{ pid: number }>(
      database.url,
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND usename = 'billing'",
      [database.name],
    )
    expect(used.length).toBeGreaterThan(0)
    expect(used.length).toBeLessThanOrEqual(POOL_SIZE)
    // As many clients as there are such connections, each in a transaction at once: PgBouncer
    // hands out its idle server connections first, so together they hold every one of them.
    const clients = Array.from(
      { length: used.length },
      () => new pg.Client({ connectionString: pooled.roleUrl('billing') }),
    )
    try {
      await Promise.all(clients.map((client) => client.connect()))
      await Promise.all(clients.map((client) => client.query('BEGIN')))
      const seen = await Promise.all(
        clients.map(async (client) => {
          const { rows } = await client.query<{ pid: number; st: string; lt: string; sp: string }>(
            `SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS st,
                    current_setting('lock_timeout') AS lt, current_setting('search_path') AS sp`,
          )
          return rows[0]!
        }),
      )
      expect(seen.map((row) => row.pid).sort()).toEqual(used.map((row) => row.pid).sort())
      for (const row of seen)
        expect({ st: row.st, lt: row.lt, sp: row.sp }).toEqual({ st: '0', lt: '0', sp: 'billing' })
    } finally {
      await Promise.all(clients.map((client) => client.query('COMMIT').catch(() => {})))
      await Promise.all(clients.map((client) => client.end()))
    }
    await pooled.pgbouncer.stop()
  })
})

test('kill -9 the replica holding the migration lock, through the pooler: the others become ready, the migration applies once', async () => {
  const pooled = await pooledDatabase('pooler_kill', { defaultPoolSize: POOL_SIZE })
  const { database } = pooled
  // The new migration stops at a gate the drill holds (an advisory lock of its own),
  // so the first replica is certainly inside it, holding the schema's lock, for as
  // long as the drill needs.
  const GATE = 7365
  const copy = copyServiceWithMigrations('auth', [
    {
      tag: '9200_drill_gated',
      statements: [
        'CREATE TABLE "auth"."drill_pooled" ("id" integer PRIMARY KEY)',
        'INSERT INTO "auth"."drill_pooled" VALUES (1)',
        `SELECT pg_advisory_xact_lock(${GATE})`,
      ],
    },
  ])
  const gate = new pg.Client({ connectionString: database.url, application_name: 'drills-gate' })
  await gate.connect()
  await gate.query('SELECT pg_advisory_lock($1)', [GATE])
  const waitingOn = async (objid: number | 'schema') => {
    const [row] = await query<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted
          AND database = (SELECT oid FROM pg_database WHERE datname = $1)
          AND ${objid === 'schema' ? 'objsubid = 2' : `objsubid = 1 AND objid = ${objid}`}`,
      [database.name],
    )
    return row!.n
  }
  try {
    // auth's own migrations first, directly (0004 runs without a transaction, which the
    // pooler cannot carry): the gated one, transactional, is left for the pooler.
    await migrate({
      url: pooled.connections('auth').migrationDatabaseUrl,
      schema: 'auth',
      migrationsFolder: service('auth').migrationsFolder,
    })
    const key = await newSigningKey()
    const start = () =>
      startService({
        // No lock_timeout: the gate is the drill's, not a conflicting table lock.
        ...authOptions(database.url, key, { env: { ...POOLER_ENV, MIGRATION_LOCK_TIMEOUT_MS: '0' } }),
        dir: copy.dir,
        ...pooled.connections('auth', { migrations: 'pooler' }),
      })
    const holder = await start()
    await eventually(
      async () => (await waitingOn(GATE)) === 1,
      'the first replica to hold the lock, at the gate',
    )
    const others = await Promise.all([start(), start(), start()])
    await eventually(
      async () => (await waitingOn('schema')) === others.length,
      'the others to queue on the lock',
    )
    countFault('kill -9 of the lock holder, through the pooler')
    expect((await holder.kill()).signal).toBe('SIGKILL')
    await gate.query('SELECT pg_advisory_unlock($1)', [GATE])

    await Promise.all(others.map((replica) => waitUntilReady(replica)))
    const files = readMigrationFolder(copy.migrationsFolder)
    const [ledger] = await query<{ n: number }>(
      database.url,
      'SELECT count(*)::int AS n FROM auth.__drizzle_migrations',
    )
    expect(ledger!.n).toBe(files.length)
    expect(await query(database.url, 'SELECT id FROM auth.drill_pooled')).toEqual([{ id: 1 }])
    expect(appliedBy(others).filter((name) => name.startsWith('9200_'))).toEqual(['9200_drill_gated.sql'])
    expect(await advisoryLocks(database.url, database.name)).toBe(0)
    await Promise.all(others.map((replica) => replica.stop()))
  } finally {
    await gate.end()
    copy.remove()
    await pooled.pgbouncer.stop()
  }
})

test('a migration without a transaction, through the pooler: refused with the fix named, nothing of it applied', async () => {
  const pooled = await pooledDatabase('pooler_no_transaction', { defaultPoolSize: POOL_SIZE })
  const { database } = pooled
  try {
    const replica = await startService({
      ...authOptions(database.url, await newSigningKey(), { env: POOLER_ENV }),
      ...pooled.connections('auth', { migrations: 'pooler' }),
    })
    expect((await replica.exited).code).toBe(1)
    const refusal = replica.logEntries().find((entry) => entry.level === 60)
    expect(refusal?.msg).toContain('0004_emails_not_unique.sql runs without a transaction')
    expect(refusal?.msg).toContain('Point MIGRATION_DATABASE_URL directly at PostgreSQL')
    // The transactional ones before it went through; the index 0004 drops is still there.
    const ledger = await query<{ n: number }>(
      database.url,
      'SELECT count(*)::int AS n FROM auth.__drizzle_migrations',
    )
    expect(ledger[0]!.n).toBe(4)
    const index = await query(
      database.url,
      "SELECT 1 FROM pg_indexes WHERE schemaname = 'auth' AND indexname = 'users_email_lower_key'",
    )
    expect(index).toHaveLength(1)
  } finally {
    await pooled.pgbouncer.stop()
  }
})
