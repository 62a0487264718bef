// DescribedStatementsClient (src/described-statements.ts) on a real server: what it
// sends (the messages written to the socket, by their type byte), and that every
// result is stock pg's.
import { eq, sql } from 'drizzle-orm'
import { integer, pgTable, text } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DescribedStatementsClient, isPlannedStatement } from '../src/described-statements.js'
import { createServiceDatabase, preparedPerSession } from '../src/index.js'
import { freshDatabase } from './helpers.js'

let url: string
const clients: pg.Client[] = []
beforeAll(async () => {
  url = (await freshDatabase('described')).url
  const setup = await connected(new pg.Client(url))
  await setup.query(`
    CREATE TABLE items (id integer PRIMARY KEY, name text, price numeric, at timestamptz, tags text[]);
    INSERT INTO items VALUES
      (1, 'one', 1.50, '2026-12-03T10:00:00Z', '{a,b}'),
      (2, NULL, NULL, NULL, NULL),
      (3, 'three "quoted"', 3, '2026-12-03T11:00:00.123Z', '{}')`)
})
afterAll(async () => {
  for (const client of clients) await client.end()
})

async function connected<T extends pg.Client>(client: T): Promise<T> {
  clients.push(client)
  await client.connect()
  return client
}

/** The type bytes of the messages `client` writes from now on: P(arse), B(ind), D(escribe), E(xecute), S(ync)... */
function sentMessages(client: pg.Client): string[] {
  const stream = (client as unknown as { connection: { stream: { write(chunk: Buffer): boolean } } })
    .connection.stream
  const sent: string[] = []
  const write = stream.write.bind(stream)
  stream.write = (chunk: Buffer) => {
    sent.push(String.fromCharCode(chunk[0]!))
    return write(chunk)
  }
  return sent
}

/** pg's binary option (every query's rows in binary), which @types/pg leaves out. */
const BINARY = (connectionString: string) => ({ connectionString, binary: true }) as pg.ClientConfig

const BY_MIN_ID = {
  name: 'items_from',
  text: 'SELECT id, name, price, at, tags FROM items WHERE id >= $1 ORDER BY id',
  rowMode: 'array' as const,
}

describe('DescribedStatementsClient', () => {
  test("a named statement with rows as arrays: its rows described at its first execution only, every result stock pg's", async () => {
    const described = await connected(new DescribedStatementsClient(url))
    const stock = await connected(new pg.Client(url))
    const sent = sentMessages(described)
    const executions: string[] = []
    for (const from of [1, 2, 3, 4, 1]) {
      sent.length = 0
      const [got, expected] = await Promise.all([
        described.query({ ...BY_MIN_ID, values: [from] }),
        stock.query({ ...BY_MIN_ID, values: [from] }),
      ])
      expect(got.rows).toEqual(expected.rows)
      expect(got.fields).toEqual(expected.fields)
      expect(got.rowCount).toBe(expected.rowCount)
      executions.push(sent.join(''))
    }
    expect(executions).toEqual(['PBDES', 'BES', 'BES', 'BES', 'BES'])
    // Parsed as their column types (numeric as text, as pg does), nulls and all.
    const { rows } = await described.query({ ...BY_MIN_ID, values: [1] })
    expect(rows[0]).toEqual([1, 'one', '1.50', new Date('2026-12-03T10:00:00Z'), ['a', 'b']])
    expect(rows[1]).toEqual([2, null, null, null, null])
  })

  test('the callback style (pg.Pool calls a client so: below, through createServiceDatabase) and custom type parsers (as Drizzle passes them)', async () => {
    const described = await connected(new DescribedStatementsClient(url))
    const types = {
      getTypeParser: ((oid: number) => (value: string) =>
        `${oid}:${value}`) as pg.CustomTypesConfig['getTypeParser'],
    }
    const run = () =>
      new Promise<pg.QueryArrayResult>((resolve, reject) =>
        described.query({ ...BY_MIN_ID, name: 'items_typed', types, values: [3] }, (error, result) =>
          error ? reject(error) : resolve(result),
        ),
      )
    const sent = sentMessages(described)
    const first = await run()
    const second = await run()
    expect(sent.join('')).toBe('PBDESBES')
    const stock = await connected(new pg.Client(url))
    const expected = await stock.query({ ...BY_MIN_ID, name: 'items_typed', types, values: [3] })
    expect(first.rows).toEqual(expected.rows)
    expect(second.rows).toEqual(expected.rows)
    expect(second.rows[0]?.slice(0, 3)).toEqual(['23:3', '25:three "quoted"', '1700:3'])
  })

  test('described at every execution: rows as objects, unnamed statements, statements without rows, statements that are not planned', async () => {
    const described = await connected(new DescribedStatementsClient(url))
    const sent = sentMessages(described)
    const twice = async (run: () => Promise<unknown>) => {
      sent.length = 0
      await run()
      await run()
      return sent.join('')
    }
    // Rows as objects: a renamed column of SELECT * keeps its type, so PostgreSQL would not refuse it.
    expect(
      await twice(() => described.query({ name: 'items_objects', text: BY_MIN_ID.text, values: [1] })),
    ).toBe('PBDESBDES')
    expect(await twice(() => described.query({ ...BY_MIN_ID, name: undefined, values: [1] }))).toBe(
      'PBDESPBDES',
    )
    // NoData (an INSERT without RETURNING): nothing to keep.
    let id = 100
    expect(
      await twice(() =>
        described.query({
          name: 'items_insert',
          text: 'INSERT INTO items (id) VALUES ($1)',
          rowMode: 'array',
          values: [id++],
        }),
      ),
    ).toBe('PBDESBDES')
    // FETCH returns what its cursor has: two cursors of one name, two shapes (pgx#2626).
    await described.query('BEGIN')
    const shapes: unknown[] = []
    sent.length = 0
    for (const select of ['SELECT 1 AS a', "SELECT 'x' AS b, 2 AS c"]) {
      await described.query(`DECLARE c CURSOR FOR ${select}`)
      const fetched = await described.query({ name: 'fetch_c', text: 'FETCH ALL IN c', rowMode: 'array' })
      shapes.push({ fields: fetched.fields.map((field) => field.name), rows: fetched.rows })
      await described.query('CLOSE c')
    }
    await described.query('COMMIT')
    expect(shapes).toEqual([
      { fields: ['a'], rows: [[1]] },
      { fields: ['b', 'c'], rows: [['x', 2]] },
    ])
    expect(sent.filter((type) => type === 'D')).toHaveLength(2)
  })

  test("rows in binary (the client's binary option): described at every execution, results stock pg's", async () => {
    const described = await connected(new DescribedStatementsClient(BINARY(url)))
    const stock = await connected(new pg.Client(BINARY(url)))
    const statement = {
      name: 'items_binary',
      text: 'SELECT id, name FROM items WHERE id <= $1 ORDER BY id',
      rowMode: 'array' as const,
    }
    const sent = sentMessages(described)
    for (const upTo of [1, 3]) {
      const [got, expected] = await Promise.all([
        described.query({ ...statement, values: [upTo] }),
        stock.query({ ...statement, values: [upTo] }),
      ])
      expect(got.rows).toEqual(expected.rows)
    }
    expect(sent.join('')).toBe('PBDESBDES')
  })

  test('a value pg cannot serialize fails that execution alone: the statement stays prepared and runs after (stock pg closes it and keeps counting it prepared)', async () => {
    const described = await connected(new DescribedStatementsClient(url))
    const unserializable = {
      toPostgres() {
        throw new Error('cannot serialize this value')
      },
    }
    const failsThenRuns = async (statement: { name: string; text: string; rowMode?: 'array' }) => {
      await expect(described.query({ ...statement, values: [unserializable] })).rejects.toThrow(
        'cannot serialize this value',
      )
      return (await described.query({ ...statement, values: [3] })).rows
    }
    // At its first execution (the Parse went out before the Bind failed)...
    expect(await failsThenRuns(BY_MIN_ID)).toHaveLength(3)
    // ...and once described, with rows as arrays and as objects.
    const sent = sentMessages(described)
    expect((await failsThenRuns(BY_MIN_ID)).map((row) => row[0])).toEqual([3, 100, 101])
    expect(sent.join('')).toBe('SBES')
    await described.query({
      name: 'items_objects_by_id',
      text: 'SELECT name FROM items WHERE id = $1',
      values: [1],
    })
    expect(
      await failsThenRuns({ name: 'items_objects_by_id', text: 'SELECT name FROM items WHERE id = $1' }),
    ).toEqual([{ name: 'three "quoted"' }])
  })

  test("a server's error fails that execution alone; the next runs on the kept description", async () => {
    const described = await connected(new DescribedStatementsClient(url))
    await described.query({ ...BY_MIN_ID, values: [1] })
    await expect(described.query({ ...BY_MIN_ID, values: ['not a number'] })).rejects.toMatchObject({
      code: '22P02',
    })
    const sent = sentMessages(described)
    expect((await described.query({ ...BY_MIN_ID, values: [2] })).rows[0]).toEqual([
      2,
      null,
      null,
      null,
      null,
    ])
    expect(sent.join('')).toBe('BES')
  })

  test('a column whose type changes under the statement: PostgreSQL refuses the statement, never rows read with the old description', async () => {
    const setup = await connected(new pg.Client(url))
    await setup.query(
      'CREATE TABLE retyped (id integer PRIMARY KEY, v integer); INSERT INTO retyped VALUES (1, 7)',
    )
    const described = await connected(new DescribedStatementsClient(url))
    const statement = {
      name: 'retyped_v',
      text: 'SELECT v FROM retyped WHERE id = $1',
      rowMode: 'array' as const,
    }
    expect((await described.query({ ...statement, values: [1] })).rows).toEqual([[7]])
    await setup.query('ALTER TABLE retyped ALTER COLUMN v TYPE text')
    await expect(described.query({ ...statement, values: [1] })).rejects.toThrow(
      'cached plan must not change result type',
    )
    // A new connection prepares and describes it afresh.
    const fresh = await connected(new DescribedStatementsClient(url))
    expect((await fresh.query({ ...statement, values: [1] })).rows).toEqual([['7']])
  })

  test("through createServiceDatabase: Drizzle's prepared query described once per connection, in the pool and in transactions", async () => {
    const database = createServiceDatabase({ url, applicationName: 'described', max: 1 })
    try {
      const items = pgTable('items', { id: integer('id').primaryKey(), name: text('name') })
      const byId = preparedPerSession((db: typeof database.db) =>
        db
          .select({ id: items.id, name: items.name })
          .from(items)
          .where(eq(items.id, sql.placeholder('id')))
          .prepare('items_name_by_id'),
      )
      const client = await database.pool.connect()
      client.release()
      const sent = sentMessages(client)
      const results = await Promise.all(
        [1, 2, 3, 4, 1, 2, 3, 4].map((id) => byId(database.db).execute({ id })),
      )
      const names = results.map((rows) => (rows.length === 0 ? 'no row' : rows[0]!.name))
      expect(names).toEqual([
        'one',
        null,
        'three "quoted"',
        'no row',
        'one',
        null,
        'three "quoted"',
        'no row',
      ])
      const inTransaction = await database.db.transaction(async (tx) => [
        await byId(tx).execute({ id: 1 }),
        await byId(tx).execute({ id: 3 }),
      ])
      expect(inTransaction).toEqual([[{ id: 1, name: 'one' }], [{ id: 3, name: 'three "quoted"' }]])
      // One connection: the pool's statement and the transaction's (the same name and
      // text, so pg parses it once) are each described once.
      expect(sent.filter((type) => type === 'D')).toHaveLength(1)
      expect(sent.filter((type) => type === 'P')).toHaveLength(1)
    } finally {
      await database.close()
    }
  })
})

describe('isPlannedStatement', () => {
  test.each([
    ['SELECT 1', true],
    ['select * from t', true],
    ['  WITH x AS (SELECT 1) SELECT * FROM x', true],
    ['(SELECT 1) UNION (SELECT 2)', true],
    ['insert into "auth"."users" ("id") values ($1) returning "id"', true],
    ['UPDATE t SET a = 1 RETURNING a', true],
    ['delete from t where id = $1 returning id', true],
    ['VALUES (1), (2)', true],
    ['TABLE t', true],
    ['-- a comment\nSELECT 1', true],
    ['/* a comment */ select 1', true],
    ['FETCH ALL IN c', false],
    ['EXPLAIN SELECT 1', false],
    ['SHOW search_path', false],
    ['CALL p()', false],
    ['selection', false],
    ['-- SELECT\nFETCH ALL IN c', false],
    ['/* SELECT */ FETCH ALL IN c', false],
    ['/* nested /* comments */ SELECT */ FETCH ALL IN c', false],
    ['', false],
  ])('%j: planned %s', (statement, planned) => {
    expect(isPlannedStatement(statement)).toBe(planned)
  })
})
