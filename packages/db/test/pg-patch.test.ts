// pg is patched (patches/pg@8.23.1.patch, named in pnpm-workspace.yaml): a plain query
// config is copied by spreading it, and rows as arrays skip building the empty row
// object. What the two copies did must still hold, on a real server.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freshDatabase } from './helpers.js'

let pool: pg.Pool
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: (await freshDatabase('pg_patch')).url, max: 1 })
})
afterAll(() => pool?.end())

const SQL = `SELECT 1::int AS one, 'two'::text AS "__proto__", NULL::text AS three, '2026-12-02T10:00:00Z'::timestamptz AS at`

describe('patched pg', () => {
  test('rows as arrays: each value parsed by its column type, fields described', async () => {
    const result = await pool.query({ text: SQL, rowMode: 'array' })
    expect(result.rows).toEqual([[1, 'two', null, new Date('2026-12-02T10:00:00Z')]])
    expect(result.fields.map((field) => field.name)).toEqual(['one', '__proto__', 'three', 'at'])
  })

  test('rows as objects: every column an own property, a column named __proto__ too', async () => {
    const { rows } = await pool.query(SQL)
    const row = rows[0]
    expect(Object.keys(row)).toEqual(['one', '__proto__', 'three', 'at'])
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('two')
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
    expect(row.three).toBeNull()
  })

  test("a plain config is copied, never changed: the caller's object works again", async () => {
    const config = { name: 'pg_patch_one', text: 'SELECT $1::int + 1 AS n', values: [1] }
    const before = { ...config }
    expect((await pool.query(config)).rows).toEqual([{ n: 2 }])
    expect((await pool.query(config, [41])).rows).toEqual([{ n: 42 }])
    expect(config).toEqual(before)
    expect(Object.keys(config)).toEqual(Object.keys(before))
  })

  test('a config of another class keeps its getters and prototype', async () => {
    class Lookup {
      readonly values = [20]
      get text() {
        return 'SELECT $1::int * 2 AS n'
      }
    }
    expect((await pool.query(new Lookup())).rows).toEqual([{ n: 40 }])
  })
})
