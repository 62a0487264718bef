import { beforeAll, describe, expect, test } from 'vitest'
import { diffCatalogs, formatCatalogDifferences, migrate, readCatalog } from '../src/index.js'
import { writeMigrationsFolder } from '../src/testing/index.js'
import { freshDatabase, query, tempFolder } from './helpers.js'

let url: string
beforeAll(async () => {
  url = (await freshDatabase('catalog')).url
  await query(
    url,
    `CREATE SCHEMA cat;
     CREATE TYPE cat.status AS ENUM ('active', 'cancelled', 'paused');
     CREATE DOMAIN cat.price AS numeric(10, 2) CHECK (VALUE >= 0);
     CREATE TABLE cat.items (
       id serial PRIMARY KEY,
       sku varchar(32) NOT NULL UNIQUE,
       status cat.status NOT NULL DEFAULT 'active',
       price cat.price,
       doubled integer GENERATED ALWAYS AS (id * 2) STORED
     );
     CREATE INDEX items_status_idx ON cat.items (status) WHERE status <> 'cancelled';
     COMMENT ON COLUMN cat.items.sku IS 'stock keeping unit';
     CREATE FUNCTION cat.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;
     CREATE TRIGGER items_noop BEFORE UPDATE ON cat.items FOR EACH ROW EXECUTE FUNCTION cat.noop();
     CREATE VIEW cat.active_items AS SELECT id, sku FROM cat.items WHERE status = 'active';
     CREATE TABLE other_schema_table (id int);`,
  )
})

describe('readCatalog', () => {
  test('describes tables, columns, types, defaults, constraints, indexes, enums, sequences, triggers and functions', async () => {
    const catalog = await readCatalog({ url, schema: 'cat' })
    expect(catalog.tables.map((t) => [t.name, t.kind])).toEqual([
      ['active_items', 'view'],
      ['items', 'table'],
    ])
    const items = catalog.tables[1]!
    expect(items.columns.map((c) => [c.name, c.type, c.notNull, c.default, c.generated])).toEqual([
      ['doubled', 'integer', false, null, '(id * 2)'],
      ['id', 'integer', true, "nextval('cat.items_id_seq'::regclass)", null],
      ['price', 'cat.price', false, null, null],
      ['sku', 'character varying(32)', true, null, null],
      ['status', 'cat.status', true, "'active'::cat.status", null],
    ])
    expect(items.columns.find((c) => c.name === 'sku')!.comment).toBe('stock keeping unit')
    expect(items.constraints).toEqual([
      { name: 'items_pkey', definition: 'PRIMARY KEY (id)' },
      { name: 'items_sku_key', definition: 'UNIQUE (sku)' },
    ])
    expect(items.indexes.map((i) => i.name)).toEqual(['items_pkey', 'items_sku_key', 'items_status_idx'])
    expect(items.indexes[2]!.definition).toContain("WHERE (status <> 'cancelled'::cat.status)")
    expect(items.triggers).toEqual([
      {
        name: 'items_noop',
        definition:
          'CREATE TRIGGER items_noop BEFORE UPDATE ON cat.items FOR EACH ROW EXECUTE FUNCTION cat.noop()',
      },
    ])
    expect(catalog.enums).toEqual([{ name: 'status', labels: ['active', 'cancelled', 'paused'] }])
    expect(catalog.domains).toEqual([
      { name: 'price', definition: 'numeric(10,2) price_check CHECK (VALUE >= 0::numeric)' },
    ])
    expect(catalog.sequences).toEqual([
      {
        name: 'items_id_seq',
        definition: 'integer start 1 increment 1 min 1 max 2147483647 cache 1',
        ownedBy: 'items.id',
      },
    ])
    expect(catalog.functions.map((f) => f.signature)).toEqual(['noop()'])
    expect(catalog.types).toEqual([])
  })

  test('is the same whatever search_path the reader has', async () => {
    const plain = await readCatalog({ url, schema: 'cat' })
    const withPath = new URL(url)
    withPath.searchParams.set('options', '-c search_path=cat,public')
    expect(await readCatalog({ url: withPath.toString(), schema: 'cat' })).toEqual(plain)
  })

  test('leaves out the migration ledger and other schemas', async () => {
    const folder = tempFolder('ledgered')
    writeMigrationsFolder(folder, [{ statements: ['CREATE TABLE "ledgered"."t" (id int);'] }])
    await migrate({ url, schema: 'ledgered', migrationsFolder: folder })
    const catalog = await readCatalog({ url, schema: 'ledgered' })
    expect(catalog.tables.map((t) => t.name)).toEqual(['t'])
    expect(catalog.sequences).toEqual([])
  })

  test('diffCatalogs names what is missing, extra and changed', async () => {
    const before = await readCatalog({ url, schema: 'cat' })
    expect(diffCatalogs(before, before)).toEqual([])
    await query(
      url,
      `DROP VIEW cat.active_items;
       ALTER TABLE cat.items ALTER COLUMN sku TYPE text;
       ALTER TYPE cat.status ADD VALUE 'archived';
       DROP INDEX cat.items_status_idx;
       CREATE INDEX items_sku_idx ON cat.items (sku);`,
    )
    const after = await readCatalog({ url, schema: 'cat' })
    const lines = formatCatalogDifferences(diffCatalogs(before, after), { expected: 'head', actual: 'live' })
    expect(lines).toEqual([
      '~ column cat.items.sku',
      '    type: character varying(32) -> text',
      '~ enum cat.status',
      '    labels: active, cancelled, paused -> active, cancelled, paused, archived',
      '+ index cat.items_sku_idx (in live, not in head)',
      '- index cat.items_status_idx (in head, missing in live)',
      '- view cat.active_items (in head, missing in live)',
    ])
  })
})
