import { integer, pgSchema, text, varchar } from 'drizzle-orm/pg-core'
import { describe, expect, test } from 'vitest'
import { diffSnapshots, drizzleKit, reverseDiff, type Snapshot } from '../src/authoring/snapshots.js'

const shop = pgSchema('shop')

async function snapshotOf(models: Record<string, unknown>): Promise<Snapshot> {
  const { generateDrizzleJson } = await drizzleKit()
  return generateDrizzleJson(models) as unknown as Snapshot
}

const before = () =>
  snapshotOf({
    shop,
    items: shop.table('items', { id: integer('id').primaryKey(), name: varchar('name', { length: 64 }) }),
  })

describe('diffSnapshots', () => {
  test('a dropped and an added column never prompt: they come out as a drop and an add', async () => {
    const after = await snapshotOf({
      shop,
      items: shop.table('items', { id: integer('id').primaryKey(), title: text('title') }),
    })
    // Without a terminal drizzle-kit's generateMigration would reject here, asking about a rename.
    const statements = await diffSnapshots(await before(), after)
    expect(statements).toEqual([
      'ALTER TABLE "shop"."items" ADD COLUMN "title" text;',
      'ALTER TABLE "shop"."items" DROP COLUMN "name";',
    ])
  })

  test('a dropped and an added table never prompt either', async () => {
    const after = await snapshotOf({ shop, goods: shop.table('goods', { id: integer('id').primaryKey() }) })
    const statements = await diffSnapshots(await before(), after)
    expect(statements).toHaveLength(2)
    expect(statements[0]).toMatch(/^CREATE TABLE "shop"."goods"/)
    expect(statements[1]).toBe('DROP TABLE "shop"."items" CASCADE;')
  })
})

describe('reverseDiff', () => {
  test('undoes a plain migration', async () => {
    const previous = await before()
    const current = await snapshotOf({
      shop,
      items: shop.table('items', {
        id: integer('id').primaryKey(),
        name: varchar('name', { length: 64 }),
        stock: integer('stock').notNull().default(0),
      }),
    })
    expect(await reverseDiff(current, previous)).toEqual(['ALTER TABLE "shop"."items" DROP COLUMN "stock";'])
  })

  test('renames recorded by drizzle-kit are renamed back, keeping the data', async () => {
    const previous = await before()
    const current = await snapshotOf({
      shop,
      products: shop.table('products', {
        id: integer('id').primaryKey(),
        label: varchar('label', { length: 64 }),
      }),
    })
    // What drizzle-kit records when the user answers "rename" to both prompts.
    current._meta = {
      schemas: {},
      tables: { '"shop"."items"': '"shop"."products"' },
      columns: { '"shop"."products"."name"': '"shop"."products"."label"' },
    }
    expect(await reverseDiff(current, previous)).toEqual([
      'ALTER TABLE "shop"."products" RENAME COLUMN "label" TO "name";',
      'ALTER TABLE "shop"."products" RENAME TO "items";',
    ])
  })
})
