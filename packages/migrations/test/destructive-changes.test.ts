// What squawk cannot tell from one file, against the SQL drizzle-kit itself
// generates for the change: a rename written as a drop plus an add, and a type
// change PostgreSQL makes without rewriting the table.
import { bigint, integer, type PgColumnBuilderBase, pgSchema, text, varchar } from 'drizzle-orm/pg-core'
import { describe, expect, test } from 'vitest'
import {
  changesWithoutRewrite,
  parseType,
  renamesAsDropAndAdd,
  typeChangesWithoutRewrite,
} from '../src/authoring/destructive-changes.js'
import { diffSnapshots, drizzleKit, type Snapshot } from '../src/authoring/snapshots.js'

const shop = pgSchema('shop')

async function snapshotOf(columns: Record<string, PgColumnBuilderBase>, extra: Record<string, unknown> = {}) {
  const { generateDrizzleJson } = await drizzleKit()
  return generateDrizzleJson({ shop, items: shop.table('items', columns), ...extra }) as unknown as Snapshot
}

const base = {
  id: integer('id').primaryKey(),
  name: varchar('name', { length: 64 }),
  stock: integer('stock'),
}

async function change(after: Snapshot, before?: Snapshot) {
  const previous = before ?? (await snapshotOf(base))
  return { previous, statements: await diffSnapshots(previous, after) }
}

describe('a rename written as a drop and an add', () => {
  test('of a column: both statements, and the data loss said', async () => {
    const { statements } = await change(
      await snapshotOf({ id: base.id, title: varchar('title', { length: 64 }), stock: base.stock }),
    )
    const [rename, ...rest] = renamesAsDropAndAdd(statements, 'shop')
    expect(rest).toEqual([])
    expect(rename!.message).toMatch(
      /^shop\.items drops name and adds title: if that is a rename, the data is lost/,
    )
    expect(rename!.statements).toEqual([
      'ALTER TABLE "shop"."items" DROP COLUMN "name";',
      'ALTER TABLE "shop"."items" ADD COLUMN "title" varchar(64);',
    ])
  })

  test('of a table: the drop, and every row lost', async () => {
    const notes = { notes: shop.table('notes', { id: integer('id') }) }
    const memos = { memos: shop.table('memos', { id: integer('id') }) }
    const { statements } = await change(await snapshotOf(base, memos), await snapshotOf(base, notes))
    expect(renamesAsDropAndAdd(statements, 'shop')).toEqual([
      {
        message: expect.stringMatching(
          /^drops table shop\.notes and creates shop\.memos: if that is a rename, every row is lost/,
        ),
        statements: ['DROP TABLE "shop"."notes" CASCADE;'],
      },
    ])
  })

  test('a column added alone, or to a table created in the same migration, is no rename', async () => {
    const added = await change(await snapshotOf({ ...base, sku: text('sku') }))
    expect(renamesAsDropAndAdd(added.statements, 'shop')).toEqual([])
    expect(
      renamesAsDropAndAdd(
        [
          'CREATE TABLE "shop"."t" ("a" int);',
          'ALTER TABLE "shop"."t" DROP COLUMN "a";',
          'ALTER TABLE "shop"."t" ADD COLUMN "b" int;',
        ],
        'shop',
      ),
    ).toEqual([])
  })
})

describe('type changes without a rewrite', () => {
  test('read from the previous snapshot: a widening passes, a narrowing or a rewrite does not', async () => {
    const wider = await change(await snapshotOf({ ...base, name: text('name') }))
    expect(wider.statements).toEqual(['ALTER TABLE "shop"."items" ALTER COLUMN "name" SET DATA TYPE text;'])
    expect(
      typeChangesWithoutRewrite(wider.statements[0]!, { schema: 'shop', previous: wider.previous }),
    ).toEqual(['shop.items.name from varchar(64) to text'])

    const narrower = await change(await snapshotOf({ ...base, name: varchar('name', { length: 16 }) }))
    expect(
      typeChangesWithoutRewrite(narrower.statements[0]!, { schema: 'shop', previous: narrower.previous }),
    ).toBe(null)
    // integer to bigint keeps every value, but rewrites the whole table.
    const bigger = await change(await snapshotOf({ ...base, stock: bigint('stock', { mode: 'number' }) }))
    expect(
      typeChangesWithoutRewrite(bigger.statements[0]!, { schema: 'shop', previous: bigger.previous }),
    ).toBe(null)
    // Without the previous type there is nothing to go on.
    expect(typeChangesWithoutRewrite(wider.statements[0]!, { schema: 'shop', previous: null })).toBe(null)
  })

  test.each([
    ['varchar(10)', 'varchar(20)', true],
    ['varchar(20)', 'varchar(10)', false],
    ['varchar(20)', 'text', true],
    ['character varying(20)', 'varchar', true],
    ['text', 'varchar(255)', false],
    ['numeric(10, 2)', 'numeric(12, 2)', true],
    ['numeric(10, 2)', 'numeric(12, 3)', false],
    ['numeric', 'numeric(12, 2)', false],
    ['integer', 'bigint', false],
    ['timestamp with time zone', 'timestamp', false],
  ])('%s -> %s without a rewrite: %s', (from, to, expected) => {
    expect(changesWithoutRewrite(parseType(from), parseType(to))).toBe(expected)
  })
})
