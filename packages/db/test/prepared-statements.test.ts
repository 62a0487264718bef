import { eq, sql } from 'drizzle-orm'
import { integer, pgTable, text } from 'drizzle-orm/pg-core'
import { beforeAll, describe, expect, test } from 'vitest'
import { createServiceDatabase, preparedPerSession } from '../src/index.js'
import { freshDatabase } from './helpers.js'

const items = pgTable('items', { id: integer('id').primaryKey(), name: text('name').notNull() })

let url: string
beforeAll(async () => {
  url = (await freshDatabase('prepared')).url
  const database = createServiceDatabase({ url, applicationName: 'setup', max: 1 })
  await database.pool.query(`CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)`)
  await database.pool.query(`INSERT INTO items VALUES (1, 'one')`)
  await database.close()
})

describe('preparedPerSession', () => {
  test.each([
    [true, ['items_by_id']],
    [false, []],
  ])(
    'preparedStatements %s: one query serves the pool and transactions, built once per session; prepared on the server: %j',
    async (prepared, expected) => {
      const database = createServiceDatabase({
        url,
        applicationName: 'prepared',
        max: 1,
        preparedStatements: prepared,
      })
      let builds = 0
      const byId = preparedPerSession((db: typeof database.db) => {
        builds++
        return db
          .select({ name: items.name })
          .from(items)
          .where(eq(items.id, sql.placeholder('id')))
          .prepare('items_by_id')
      })
      try {
        expect(await byId(database.db).execute({ id: 1 })).toEqual([{ name: 'one' }])
        expect(await byId(database.db).execute({ id: 2 })).toEqual([])
        for (const id of [2, 3]) {
          // Inside a transaction the statement runs on the transaction's connection: it
          // sees the row the transaction inserted and has not committed.
          let seen: unknown
          await expect(
            database.db.transaction(async (tx) => {
              await tx.insert(items).values({ id, name: `uncommitted ${id}` })
              seen = await byId(tx).execute({ id })
              tx.rollback()
            }),
          ).rejects.toThrow('Rollback')
          expect(seen).toEqual([{ name: `uncommitted ${id}` }])
        }
        const inTransaction = await database.db.transaction(async (tx) => {
          await tx.insert(items).values({ id: 4, name: 'four' })
          return byId(tx).execute({ id: 4 })
        })
        expect(inTransaction).toEqual([{ name: 'four' }])
        // One build for the pool, one for the pool's single connection's transactions.
        expect(builds).toBe(2)
        const { rows } = await database.pool.query<{ name: string }>(
          'SELECT name FROM pg_prepared_statements',
        )
        expect(rows.map((r) => r.name)).toEqual(expected)
      } finally {
        await database.pool.query('DELETE FROM items WHERE id <> 1')
        await database.close()
      }
    },
  )
})
