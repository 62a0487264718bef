import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { beforeAll, describe, expect, test } from 'vitest'
import { MigrationError, migrate, readCatalog, rollback, status } from '../src/index.js'
import { type MigrationSpec, writeMigrationsFolder } from '../src/testing/index.js'
import { collectingLogger, freshDatabase, ledgerRows, query, relationsIn, tempFolder } from './helpers.js'

// A little of everything the catalog covers, with hand-written downs.
const shop = (s: string): MigrationSpec[] => [
  {
    statements: [
      `CREATE SCHEMA "${s}";`,
      `CREATE TYPE "${s}"."plan" AS ENUM('free', 'pro');`,
      `CREATE TABLE "${s}"."accounts" ("id" serial PRIMARY KEY, "email" varchar(254) NOT NULL, "plan" "${s}"."plan" DEFAULT 'free' NOT NULL);`,
      `CREATE UNIQUE INDEX "accounts_email_key" ON "${s}"."accounts" (lower("email"));`,
    ],
    down: [`DROP TABLE "${s}"."accounts";`, `DROP TYPE "${s}"."plan";`],
  },
  {
    statements: [
      `CREATE TABLE "${s}"."orders" ("id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "account_id" integer NOT NULL REFERENCES "${s}"."accounts"("id"), "total" numeric(12, 2) CHECK ("total" >= 0));`,
      `CREATE FUNCTION "${s}"."touch"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;`,
      `CREATE TRIGGER "orders_touch" BEFORE UPDATE ON "${s}"."orders" FOR EACH ROW EXECUTE FUNCTION "${s}"."touch"();`,
    ],
    down: [`DROP TABLE "${s}"."orders";`, `DROP FUNCTION "${s}"."touch"();`],
  },
  {
    statements: [`ALTER TABLE "${s}"."accounts" ADD COLUMN "nickname" text;`],
    down: [`ALTER TABLE "${s}"."accounts" DROP COLUMN "nickname";`],
  },
]

let url: string
beforeAll(async () => {
  url = (await freshDatabase('rollback')).url
})

async function setUp(schema: string, specs = shop(schema)) {
  const folder = tempFolder(schema)
  writeMigrationsFolder(folder, specs)
  await migrate({ url, schema, migrationsFolder: folder })
  return folder
}

/** What must not change when a rollback is refused. */
async function snapshot(schema: string) {
  return { catalog: await readCatalog({ url, schema }), ledger: await ledgerRows(url, schema) }
}

describe('rollback', () => {
  test('up, down all, up again: the catalog is identical to the first application', async () => {
    const folder = await setUp('roundtrip')
    const first = await readCatalog({ url, schema: 'roundtrip' })
    expect(first.tables.map((t) => t.name)).toEqual(['accounts', 'orders'])

    const { lines, logger } = collectingLogger()
    const result = await rollback({ url, schema: 'roundtrip', migrationsFolder: folder, steps: 3, logger })
    expect(result.rolledBack.map((m) => m.name)).toEqual(['0002_step.sql', '0001_step.sql', '0000_step.sql'])
    expect(lines.at(-1)!.message).toMatch(/^roundtrip: 3 rolled back, 0 still applied, [\d.]+ ms$/)
    // The schema and the ledger stay; everything else is gone.
    expect(await relationsIn(url, 'roundtrip')).toEqual([
      '__drizzle_migrations',
      '__drizzle_migrations_id_seq',
      '__drizzle_migrations_pkey',
    ])
    expect(await ledgerRows(url, 'roundtrip')).toEqual([])
    const empty = await readCatalog({ url, schema: 'roundtrip' })
    expect(empty).toMatchObject({ tables: [], enums: [], sequences: [], functions: [] })

    await migrate({ url, schema: 'roundtrip', migrationsFolder: folder })
    expect(await readCatalog({ url, schema: 'roundtrip' })).toEqual(first)
  })

  test('steps=1 undoes only the newest, which becomes pending again', async () => {
    const folder = await setUp('one_step')
    await rollback({ url, schema: 'one_step', migrationsFolder: folder, steps: 1 })
    const report = await status({ url, schema: 'one_step', migrationsFolder: folder })
    expect(report.entries.map((e) => e.state)).toEqual(['applied', 'applied', 'pending'])
    const accounts = (await readCatalog({ url, schema: 'one_step' })).tables.find(
      (t) => t.name === 'accounts',
    )!
    expect(accounts.columns.map((c) => c.name)).not.toContain('nickname')
  })

  test('a missing down is refused before anything is touched, naming the file', async () => {
    const specs = shop('no_down')
    delete specs[1]!.down
    const folder = await setUp('no_down', specs)
    const before = await snapshot('no_down')

    // The newest migration has its down, but the second one doesn't: nothing may run.
    const error = await rollback({ url, schema: 'no_down', migrationsFolder: folder, steps: 2 }).catch(
      (e: unknown) => e,
    )
    const downFile = path.join(folder, '0001_step.down.sql')
    expect(error).toBeInstanceOf(MigrationError)
    expect(error).toMatchObject({ code: 'MIGRATION_DOWN_MISSING', details: { file: downFile } })
    expect((error as Error).message).toContain(downFile)
    expect(await snapshot('no_down')).toEqual(before)
  })

  test('refuses to undo a migration whose file changed since it was applied', async () => {
    const folder = await setUp('edited_up')
    const before = await snapshot('edited_up')
    const file = path.join(folder, '0002_step.sql')
    writeFileSync(file, readFileSync(file, 'utf8').replace('text', 'varchar(10)'))

    const error = await rollback({ url, schema: 'edited_up', migrationsFolder: folder, steps: 1 }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'MIGRATION_HASH_MISMATCH', details: { file } })
    expect(await snapshot('edited_up')).toEqual(before)
  })

  test('refuses a down that drops the schema or touches the ledger', async () => {
    const folder = await setUp('guarded')
    const before = await snapshot('guarded')
    for (const statement of ['DROP SCHEMA "guarded" CASCADE;', 'DELETE FROM __drizzle_migrations;']) {
      writeFileSync(path.join(folder, '0002_step.down.sql'), statement)
      const error = await rollback({ url, schema: 'guarded', migrationsFolder: folder, steps: 1 }).catch(
        (e: unknown) => e,
      )
      expect(error).toMatchObject({ code: 'MIGRATION_ROLLBACK_INVALID', details: { statement } })
    }
    expect(await snapshot('guarded')).toEqual(before)
  })

  test('a failing down leaves its migration applied and names the file and statement', async () => {
    const folder = await setUp('failing_down')
    writeFileSync(
      path.join(folder, '0001_step.down.sql'),
      'DROP FUNCTION "failing_down"."touch"() CASCADE;\n--> statement-breakpoint\nDROP TABLE "failing_down"."missing";',
    )
    const error = await rollback({ url, schema: 'failing_down', migrationsFolder: folder, steps: 2 }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({
      code: 'MIGRATION_FAILED',
      details: { file: path.join(folder, '0001_step.down.sql') },
    })
    expect((error as Error).message).toContain('0001_step.down.sql failed at statement 2 of 2')
    // 0002 was undone in its own transaction; 0001's half-run down left nothing behind.
    const report = await status({ url, schema: 'failing_down', migrationsFolder: folder })
    expect(report.entries.map((e) => e.state)).toEqual(['applied', 'applied', 'pending'])
    const catalog = await readCatalog({ url, schema: 'failing_down' })
    expect(catalog.functions.map((f) => f.signature)).toEqual(['touch()'])
  })

  test('more steps than applied migrations is refused', async () => {
    const folder = await setUp('too_many')
    const error = await rollback({ url, schema: 'too_many', migrationsFolder: folder, steps: 4 }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'MIGRATION_ROLLBACK_INVALID' })
    expect((error as Error).message).toContain('only 3 applied')
    expect(await ledgerRows(url, 'too_many')).toHaveLength(3)
  })

  test('concurrent rollbacks of the newest migration: one undoes it, the others stop under the lock', async () => {
    const folder = await setUp('contended')
    // Hold the schema's lock so every rollback plans the same target, then queues.
    const holder = new pg.Client({ connectionString: url })
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await holder.query("SELECT pg_advisory_xact_lock(x'6d696772'::int, hashtext('contended'))")
      const attempts = Array.from({ length: 3 }, () =>
        rollback({ url, schema: 'contended', migrationsFolder: folder, steps: 1 }),
      )
      // Wait (without a time limit) until all three wait on the advisory lock.
      for (;;) {
        const [{ n }] = (await query<{ n: number }>(
          url,
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )) as [{ n: number }]
        if (n === 3) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await holder.query('COMMIT')
      const results = await Promise.allSettled(attempts)
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect(r.reason).toMatchObject({ code: 'MIGRATION_ROLLBACK_INVALID' })
      }
    } finally {
      await holder.end()
    }
    expect(await ledgerRows(url, 'contended')).toHaveLength(2)
  })

  test('nothing applied yet: refused, and no ledger is created', async () => {
    const folder = tempFolder('never')
    writeMigrationsFolder(folder, shop('never'))
    const error = await rollback({ url, schema: 'never', migrationsFolder: folder, steps: 1 }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'MIGRATION_ROLLBACK_INVALID' })
    expect(await relationsIn(url, 'never')).toEqual([])
    rmSync(folder, { recursive: true })
  })
})
