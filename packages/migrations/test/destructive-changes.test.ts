// Each warning against the SQL drizzle-kit itself generates for the change.
import { bigint, integer, type PgColumnBuilderBase, pgSchema, text, varchar } from 'drizzle-orm/pg-core'
import { describe, expect, test } from 'vitest'
import {
  destructiveChanges,
  formatDestructiveChanges,
  isWidening,
  parseType,
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

async function warningsFor(after: Snapshot, before?: Snapshot) {
  const previous = before ?? (await snapshotOf(base))
  const statements = await diffSnapshots(previous, after)
  return { statements, changes: destructiveChanges(statements, { schema: 'shop', previous }) }
}

describe('destructive-change warnings', () => {
  test('DROP TABLE', async () => {
    const before = await snapshotOf(base, { notes: shop.table('notes', { id: integer('id') }) })
    const { changes } = await warningsFor(await snapshotOf(base), before)
    expect(changes).toEqual([
      {
        kind: 'DROP TABLE',
        message: 'drops table shop.notes and every row in it',
        statements: ['DROP TABLE "shop"."notes" CASCADE;'],
      },
    ])
  })

  test('DROP COLUMN', async () => {
    const { changes } = await warningsFor(await snapshotOf({ id: base.id, name: base.name }))
    expect(changes).toEqual([
      {
        kind: 'DROP COLUMN',
        message: 'drops column shop.items.stock and its data',
        statements: ['ALTER TABLE "shop"."items" DROP COLUMN "stock";'],
      },
    ])
  })

  test('a type change that can lose data, but not a widening one', async () => {
    const narrower = await warningsFor(await snapshotOf({ ...base, name: varchar('name', { length: 16 }) }))
    expect(narrower.changes.map((c) => [c.kind, c.statements])).toEqual([
      ['TYPE CHANGE', ['ALTER TABLE "shop"."items" ALTER COLUMN "name" SET DATA TYPE varchar(16);']],
    ])
    expect(narrower.changes[0]!.message).toContain('from varchar(64) to varchar(16)')

    const wider = await warningsFor(
      await snapshotOf({ ...base, name: text('name'), stock: bigint('stock', { mode: 'number' }) }),
    )
    expect(wider.statements).toHaveLength(2)
    expect(wider.changes).toEqual([])
  })

  test('NOT NULL on an existing table without a default, but not with one', async () => {
    const bare = await warningsFor(await snapshotOf({ ...base, stock: integer('stock').notNull() }))
    expect(bare.changes.map((c) => [c.kind, c.statements])).toEqual([
      ['NOT NULL WITHOUT DEFAULT', ['ALTER TABLE "shop"."items" ALTER COLUMN "stock" SET NOT NULL;']],
    ])
    const added = await warningsFor(await snapshotOf({ ...base, sku: text('sku').notNull() }))
    expect(added.changes.map((c) => [c.kind, c.statements])).toEqual([
      ['NOT NULL WITHOUT DEFAULT', ['ALTER TABLE "shop"."items" ADD COLUMN "sku" text NOT NULL;']],
    ])

    const defaulted = await warningsFor(
      await snapshotOf({ ...base, stock: integer('stock').notNull().default(0) }),
    )
    expect(defaulted.statements).toHaveLength(2)
    expect(defaulted.changes).toEqual([])
    const newTable = await warningsFor(
      await snapshotOf(base, { tags: shop.table('tags', { label: text('label').notNull() }) }),
    )
    expect(newTable.changes).toEqual([])
  })

  test('a rename that came out as a drop and an add', async () => {
    const { changes } = await warningsFor(
      await snapshotOf({ id: base.id, title: varchar('title', { length: 64 }), stock: base.stock }),
    )
    const rename = changes.find((c) => c.kind === 'RENAME AS DROP + ADD')!
    expect(rename.message).toMatch(
      /^shop\.items drops name and adds title: if that is a rename, the data is lost/,
    )
    expect(rename.statements).toEqual([
      'ALTER TABLE "shop"."items" DROP COLUMN "name";',
      'ALTER TABLE "shop"."items" ADD COLUMN "title" varchar(64);',
    ])
    expect(changes.map((c) => c.kind)).toEqual(['DROP COLUMN', 'RENAME AS DROP + ADD'])
  })

  test('the printed block names the file, each warning and its statement', () => {
    const lines = formatDestructiveChanges('drizzle/0003_x.sql', [
      {
        kind: 'DROP COLUMN',
        message: 'drops column a.b.c and its data',
        statements: ['ALTER TABLE "a"."b" DROP COLUMN "c";'],
      },
    ])
    expect(lines.join('\n')).toContain(
      '!! WARNING: 1 destructive change(s) in drizzle/0003_x.sql\n!!\n!! DROP COLUMN: drops column a.b.c and its data\n!!     ALTER TABLE "a"."b" DROP COLUMN "c";',
    )
  })

  test.each([
    ['varchar(10)', 'varchar(20)', true],
    ['varchar(20)', 'varchar(10)', false],
    ['integer', 'bigint', true],
    ['bigint', 'integer', false],
    ['numeric(10, 2)', 'numeric(12, 2)', true],
    ['numeric(10, 2)', 'numeric(10, 0)', false],
    ['timestamp (3) with time zone', 'timestamp (6) with time zone', true],
    ['timestamp with time zone', 'timestamp', false],
    ['text', 'varchar(255)', false],
    ['uuid', 'text', true],
  ])('%s -> %s keeps every value: %s', (from, to, expected) => {
    expect(isWidening(parseType(from), parseType(to))).toBe(expected)
  })
})
