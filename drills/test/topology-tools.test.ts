// The production topology's tools, started for real: PgBouncer 1.18 in transaction
// mode and HAProxy 2.6 health-checking /readyz. Also records two facts the production
// code relies on: the pooler refuses startup parameters such as statement_timeout, and
// a session-level SET leaks to the next client of the same server connection (hence
// SET LOCAL inside the transaction).
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { freePort } from '@app/db/embedded'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { query } from './support/databases.js'
import { type Haproxy, startHaproxy } from './support/haproxy.js'
import { type PgBouncer, startPgBouncer } from './support/pgbouncer.js'
import { killLeftovers } from './support/service-process.js'

afterAll(async () => {
  await killLeftovers()
})

describe('PgBouncer, transaction mode', () => {
  const run = inject('testRun')
  // Roles are server-wide and other suites share the server: the run's prefix keeps them apart.
  const role = `${run.prefix}_pooled_${randomBytes(3).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  let database: ScratchDatabase
  let roleCreated = false
  const bouncers: PgBouncer[] = []

  async function bouncer(defaultPoolSize: number): Promise<PgBouncer> {
    const started = await startPgBouncer({
      serverUrl: run.adminUrl,
      databases: [database.name],
      users: [{ name: role, password }],
      defaultPoolSize,
    })
    bouncers.push(started)
    return started
  }

  async function connected(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    return client
  }

  beforeAll(async () => {
    database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_pgbouncer` })
    await query(run.adminUrl, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
    roleCreated = true
  })

  afterAll(async () => {
    await Promise.all(bouncers.map((started) => started.stop()))
    await database?.drop()
    if (roleCreated) await query(run.adminUrl, `DROP ROLE IF EXISTS ${role}`)
  })

  test('refuses statement_timeout as a startup parameter; a plain client works', async () => {
    const pooler = await bouncer(4)
    const url = pooler.url(role, password, database.name)

    const withTimeout = new pg.Client({ connectionString: url, statement_timeout: 1000 })
    await expect(withTimeout.connect()).rejects.toThrow('unsupported startup parameter: statement_timeout')
    await withTimeout.end().catch(() => {})

    const plain = await connected(url)
    try {
      const { rows } = await plain.query('SELECT current_user AS "user", current_database() AS database')
      expect(rows).toEqual([{ user: role, database: database.name }])
    } finally {
      await plain.end()
    }
    const pools = await pooler.adminQuery<{ database: string; user: string; pool_mode: string }>('SHOW POOLS')
    expect(pools).toContainEqual(
      expect.objectContaining({ database: database.name, user: role, pool_mode: 'transaction' }),
    )
  })

  test('a session-level SET leaks to the next client; SET LOCAL does not', async () => {
    // One server connection: whatever the first client leaves on it, the second one gets.
    const pooler = await bouncer(1)
    const url = pooler.url(role, password, database.name)
    const setter = await connected(url)
    const other = await connected(url)
    try {
      const [first] = (await setter.query('SELECT pg_backend_pid() AS pid')).rows
      await setter.query('SET statement_timeout = 1234')

      const seen = await other.query(
        "SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS value",
      )
      expect(seen.rows).toEqual([{ pid: first.pid, value: '1234ms' }])

      await setter.query('BEGIN')
      await setter.query('SET LOCAL statement_timeout = 4321')
      expect((await setter.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '4321ms' }])
      await setter.query('COMMIT')
      expect((await other.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '1234ms' }])
    } finally {
      await Promise.all([setter.end(), other.end()])
    }
  })
})

describe('HAProxy in front of two replicas', () => {
  interface Replica {
    name: string
    port: number
    ready: boolean
    forwardedFor: string[]
    server: Server
  }
  const replicas: Replica[] = []
  let haproxy: Haproxy

  async function replica(name: string): Promise<Replica> {
    const port = await freePort()
    const server = createServer((request, response) => {
      if (request.url === '/readyz') {
        response.writeHead(created.ready ? 200 : 503).end()
        return
      }
      created.forwardedFor.push(String(request.headers['x-forwarded-for']))
      response.writeHead(200, { 'content-type': 'text/plain' }).end(name)
    })
    const created: Replica = { name, port, ready: true, forwardedFor: [], server }
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    replicas.push(created)
    return created
  }

  async function answers(count: number): Promise<string[]> {
    const names: string[] = []
    for (let i = 0; i < count; i++) {
      const response = await fetch(haproxy.url('api'))
      expect(response.status).toBe(200)
      names.push(await response.text())
    }
    return names
  }

  beforeAll(async () => {
    const [a, b] = [await replica('a'), await replica('b')]
    haproxy = await startHaproxy({
      frontends: [{ name: 'api', servers: [a, b].map(({ name, port }) => ({ name, port })) }],
    })
  })

  afterAll(async () => {
    await haproxy?.stop()
    for (const { server } of replicas) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('balances over both, and stops sending to one whose /readyz answers 503', async () => {
    expect(await haproxy.serverStates('api')).toEqual({ a: 'UP', b: 'UP' })
    expect(new Set(await answers(6))).toEqual(new Set(['a', 'b']))
    // option forwardfor: the replicas see the client's address.
    expect(replicas.flatMap((r) => r.forwardedFor)).toContain('127.0.0.1')

    replicas[1]!.ready = false
    await haproxy.waitForState('api', 'b', 'DOWN')
    expect(await answers(6)).toEqual(Array(6).fill('a'))

    replicas[1]!.ready = true
    await haproxy.waitForState('api', 'b', 'UP')
    expect(new Set(await answers(6))).toEqual(new Set(['a', 'b']))
  })
})
