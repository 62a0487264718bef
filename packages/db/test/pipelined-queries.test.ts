// Queries outside a transaction pipelined on shared connections (pipelined-queries.ts),
// through createServiceDatabase as the services build it, on a real server.
import { performance } from 'node:perf_hooks'
import { eq, sql } from 'drizzle-orm'
import { integer, pgTable, text } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createServiceDatabase, isPipelinedRead, preparedPerSession, STALL_MS } from '../src/index.js'
import { freshDatabase } from './helpers.js'

const items = pgTable('items', { id: integer('id').primaryKey(), name: text('name').notNull() })

let url: string
let admin: pg.Client
beforeAll(async () => {
  url = (await freshDatabase('pipelined')).url
  admin = new pg.Client(url)
  await admin.connect()
  await admin.query(`CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
    INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 100) AS i`)
})
afterAll(() => admin.end())

/** This database's connections of one application_name (another run may use the same names). */
async function backends(applicationName: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 ORDER BY pid',
    [applicationName],
  )
  return rows.map((row) => row.pid)
}

// Where a test needs all queries on the first connection whatever the machine's speed: a
// loaded machine can take longer than STALL_MS between two turns that write queries, and
// its first connection would then look stalled (which only the stall tests below are about).
const NEVER_STALLED = 60_000

const pidQuery = (n: number) => ({ text: 'SELECT $1::int AS n, pg_backend_pid() AS pid', values: [n] })

describe('pipelined queries', () => {
  test.each([true, false])(
    'preparedStatements %s: concurrent queries share one connection, all written before the first answer, each answered with its own rows',
    async (prepared) => {
      const database = createServiceDatabase({
        url,
        applicationName: `pipe_one_${prepared}`,
        preparedStatements: prepared,
        pipelineStallMs: NEVER_STALLED,
      })
      const byId = preparedPerSession((db: typeof database.db) =>
        db
          .select({ id: items.id, name: items.name })
          .from(items)
          .where(eq(items.id, sql.placeholder('id')))
          .prepare('pipe_item_by_id'),
      )
      try {
        await database.ping() // the shared connection open
        const reads = Array.from({ length: 40 }, (_, i) => byId(database.db).execute({ id: i + 1 }))
        const raw = Array.from({ length: 40 }, (_, i) => database.pool.query(pidQuery(i)))
        // Drizzle's execute() reaches pool.query after a few promise jobs; no answer can
        // be read before the event loop polls the socket.
        for (let i = 0; i < 20; i++) await null
        // Written at once: none of them has been answered yet.
        expect(database.pipelined!.inFlightCount).toBe(80)
        expect(database.pipelined!.openCount).toBe(1)
        const rows = await Promise.all(reads)
        expect(rows).toEqual(Array.from({ length: 40 }, (_, i) => [{ id: i + 1, name: `item ${i + 1}` }]))
        const results = await Promise.all(raw)
        expect(results.map((r) => r.rows[0].n)).toEqual(Array.from({ length: 40 }, (_, i) => i))
        const pids = new Set(results.map((r) => r.rows[0].pid))
        expect(pids.size).toBe(1)
        // No connection of the pool was opened for them.
        expect(database.pool.totalCount).toBe(0)
        expect(await backends(`pipe_one_${prepared}`)).toEqual([...pids])
        const statements = await database.pool.query<{ name: string }>(
          'SELECT name FROM pg_prepared_statements',
        )
        expect(statements.rows.map((r) => r.name)).toEqual(prepared ? ['pipe_item_by_id'] : [])
        expect(database.pipelined!.inFlightCount).toBe(0)
      } finally {
        await database.close()
      }
    },
  )

  test('a failing query fails alone: the queries written behind it are answered', async () => {
    const database = createServiceDatabase({
      url,
      applicationName: 'pipe_errors',
      pipelineStallMs: NEVER_STALLED,
    })
    try {
      const settled = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) =>
          i % 7 === 3
            ? database.pool.query({
                name: 'pipe_divide',
                text: 'SELECT 1 / ($1::int - $1::int) AS x',
                values: [i],
              })
            : database.pool.query({ name: 'pipe_echo', text: 'SELECT $1::int AS n', values: [i] }),
        ),
      )
      settled.forEach((outcome, i) => {
        if (i % 7 === 3) {
          expect(outcome.status).toBe('rejected')
          expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: '22012' })
        } else {
          expect(outcome).toEqual({
            status: 'fulfilled',
            value: expect.objectContaining({ rows: [{ n: i }] }),
          })
        }
      })
      expect(database.pipelined!.openCount).toBe(1)
      // A value pg cannot serialize fails that query, once, and the connection goes on.
      const unserializable = {
        toPostgres() {
          throw new Error('cannot serialize')
        },
      }
      const [bad, good] = await Promise.allSettled([
        database.pool.query({ name: 'pipe_echo', text: 'SELECT $1::int AS n', values: [unserializable] }),
        database.pool.query({ name: 'pipe_echo', text: 'SELECT $1::int AS n', values: [5] }),
      ])
      expect(bad).toMatchObject({ status: 'rejected', reason: { message: 'cannot serialize' } })
      expect(good).toMatchObject({ status: 'fulfilled', value: { rows: [{ n: 5 }] } })
    } finally {
      await database.close()
    }
  })

  test('queries written while a shared connection is stalled on a slow query go to the next one, then to the pool', async () => {
    const database = createServiceDatabase({ url, applicationName: 'pipe_stall', pipelineConnections: 2 })
    const stalled = () => new Promise((resolve) => setTimeout(resolve, STALL_MS * 4))
    const quick = async () => {
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => database.pool.query(pidQuery(i))))
      return results.map((r) => r.rows[0].pid as number)
    }
    try {
      const first = (await database.pool.query(pidQuery(0))).rows[0].pid
      // The slow queries take 2 s: the quick ones, new connections included, answer well before
      // on a loaded machine too.
      const order: string[] = []
      const slow = database.pool.query('SELECT pg_sleep(2), pg_backend_pid() AS pid').then((r) => {
        order.push('slow')
        return r.rows[0].pid
      })
      await stalled()
      const second = await quick()
      order.push('quick')
      expect(new Set(second).size).toBe(1)
      expect(second[0]).not.toBe(first)
      expect(database.pipelined!.openCount).toBe(2)
      expect(database.pool.totalCount).toBe(0)
      // Both shared connections stalled: the pool's connections, one query each.
      const slower = database.pool.query('SELECT pg_sleep(2), pg_backend_pid() AS pid')
      await stalled()
      const third = await quick()
      expect(third.every((pid) => pid !== first && pid !== second[0])).toBe(true)
      expect(database.pool.totalCount).toBeGreaterThan(0)
      expect(order).toEqual(['quick'])
      expect(await slow).toBe(first)
      expect((await slower).rows[0].pid).toBe(second[0])
      // Answered again: the first connection carries the queries again.
      expect((await database.pool.query(pidQuery(9))).rows[0].pid).toBe(first)
    } finally {
      await database.close()
    }
  })

  test('queries written in one event-loop turn share the first connection, however long the turn takes', async () => {
    const database = createServiceDatabase({ url, applicationName: 'pipe_turn', pipelineConnections: 2 })
    try {
      await database.ping() // the shared connection open
      const first = database.pool.query(pidQuery(1))
      // Held up past STALL_MS before the next write (a process kept off the CPU, a long task):
      // no answer can have been read in between, so the connection is not stalled.
      const until = performance.now() + STALL_MS * 3
      while (performance.now() < until) {}
      const second = database.pool.query(pidQuery(2))
      expect(database.pipelined!.openCount).toBe(1)
      const pids = (await Promise.all([first, second])).map((result) => result.rows[0].pid)
      expect(pids[1]).toBe(pids[0])
    } finally {
      await database.close()
    }
  })

  test('writes and locking reads take a connection of the pool, never a shared one', async () => {
    const database = createServiceDatabase({
      url,
      applicationName: 'pipe_writes',
      pipelineStallMs: NEVER_STALLED,
    })
    const blocker = new pg.Client(url)
    await blocker.connect()
    try {
      const shared = (await database.pool.query(pidQuery(0))).rows[0].pid
      // Another transaction holds item 1's row lock: a write of it waits as long as that runs.
      await blocker.query('BEGIN')
      await blocker.query('UPDATE items SET name = name WHERE id = 1')
      const write = database.pool.query(
        "UPDATE items SET name = 'item 1' WHERE id = 1 RETURNING pg_backend_pid() AS pid",
      )
      const locking = database.pool.query('SELECT pg_backend_pid() AS pid FROM items WHERE id = 1 FOR UPDATE')
      await new Promise((resolve) => setTimeout(resolve, 50))
      // Reads behind them are answered meanwhile, on the shared connection.
      expect((await database.pool.query(pidQuery(1))).rows[0].pid).toBe(shared)
      expect(database.pipelined!.inFlightCount).toBe(0)
      expect(database.pool.totalCount).toBe(2)
      await blocker.query('COMMIT')
      const pids = [(await write).rows[0].pid, (await locking).rows[0].pid]
      expect(pids).not.toContain(shared)
    } finally {
      await blocker.end()
      await database.close()
    }
  })

  test.each([
    ['SELECT 1', true],
    ['  select "id" from "auth"."users" where "users"."id" = $1', true],
    ['SELECT * FROM items WHERE id = 1 FOR UPDATE', false],
    ['select id from items for no key update skip locked', false],
    ['SELECT id FROM items FOR SHARE', false],
    ['select id from items for  key share', false],
    ['INSERT INTO items VALUES (1)', false],
    ['WITH d AS (DELETE FROM items RETURNING id) SELECT id FROM d', false],
    ['UPDATE items SET name = $1', false],
    ['BEGIN', false],
  ])('isPipelinedRead(%j) is %s', (text, expected) => {
    expect(isPipelinedRead(text)).toBe(expected)
  })

  test('a transaction runs on a connection of the pool, unseen by the pipelined reads until it commits', async () => {
    const database = createServiceDatabase({ url, applicationName: 'pipe_tx' })
    const count = () =>
      database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM items WHERE id > 1000')
    try {
      const shared = (await database.pool.query(pidQuery(0))).rows[0].pid
      await database.db.transaction(async (tx) => {
        await tx.insert(items).values({ id: 1001, name: 'in a transaction' })
        const inside = await tx.execute<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`)
        expect(inside.rows[0]!.pid).not.toBe(shared)
        expect((await count()).rows[0]!.n).toBe(0)
      })
      expect((await count()).rows[0]!.n).toBe(1)
      expect(database.pool.totalCount).toBe(1)
    } finally {
      await database.pool.query('DELETE FROM items WHERE id > 1000')
      await database.close()
    }
  })

  test('a shared connection the server ends fails the queries in flight; the next query opens another', async () => {
    const lost: Error[] = []
    const database = createServiceDatabase({
      url,
      applicationName: 'pipe_lost',
      pipelineStallMs: NEVER_STALLED,
      onIdleError: (error) => lost.push(error),
    })
    try {
      const before = (await database.pool.query(pidQuery(0))).rows[0].pid
      // Their failures are expected before they happen: the backend's goodbye can arrive
      // before the answer to pg_terminate_backend does.
      const sleeping = expect(database.pool.query('SELECT pg_sleep(5)')).rejects.toThrow(/terminat/)
      const behind = expect(database.pool.query(pidQuery(1))).rejects.toThrow()
      await new Promise((resolve) => setTimeout(resolve, 50))
      await admin.query('SELECT pg_terminate_backend($1)', [before])
      await sleeping
      await behind
      const after = (await database.pool.query(pidQuery(2))).rows[0].pid
      expect(after).not.toBe(before)
      expect(lost.length).toBeGreaterThan(0)
      expect(database.pipelined!.openCount).toBe(1)
    } finally {
      await database.close()
    }
  })

  test('with the server unreachable every query fails, and none waits forever', async () => {
    const unreachable = new URL(url)
    unreachable.port = '1'
    const database = createServiceDatabase({ url: unreachable.toString(), applicationName: 'pipe_down' })
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const settled = await Promise.allSettled([1, 2, 3].map((n) => database.pool.query(pidQuery(n))))
        expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected'])
        expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ECONNREFUSED' })
      }
      expect(await database.ping()).toBe(false)
    } finally {
      await database.close()
    }
  })

  test('close() waits for the queries in flight, then leaves no connection open', async () => {
    const database = createServiceDatabase({ url, applicationName: 'pipe_close' })
    const pending = Array.from({ length: 20 }, (_, i) => database.pool.query(pidQuery(i)))
    await database.close()
    expect((await Promise.all(pending)).map((r) => r.rows[0].n)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    )
    await expect(database.pool.query(pidQuery(0))).rejects.toThrow('closed')
    for (let i = 0; i < 50 && (await backends('pipe_close')).length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await backends('pipe_close')).toEqual([])
  })

  test('pipelineConnections 0: each query takes a connection of the pool, as pg.Pool does', async () => {
    const database = createServiceDatabase({
      url,
      applicationName: 'pipe_off',
      pipelineConnections: 0,
      max: 3,
    })
    try {
      expect(database.pipelined).toBeUndefined()
      const results = await Promise.all(Array.from({ length: 9 }, (_, i) => database.pool.query(pidQuery(i))))
      expect(new Set(results.map((r) => r.rows[0].pid)).size).toBe(3)
      expect(database.pool.totalCount).toBe(3)
    } finally {
      await database.close()
    }
  })
})
