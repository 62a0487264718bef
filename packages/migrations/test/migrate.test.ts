import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { withUser } from '@app/db'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { MigrationError, migrate, readMigrationFolder } from '../src/index.js'
import { writeMigrationsFolder } from '../src/testing/index.js'
import {
  collectingLogger,
  freshDatabase,
  ledgerRows,
  query,
  relationsIn,
  schemaExists,
  tempFolder,
} from './helpers.js'

const threeSteps = (schema: string) => [
  {
    statements: [
      `CREATE SCHEMA "${schema}";`,
      `CREATE TABLE "${schema}"."accounts" ("id" serial PRIMARY KEY);`,
    ],
  },
  { statements: [`ALTER TABLE "${schema}"."accounts" ADD COLUMN "name" text;`] },
  { statements: [`CREATE INDEX "accounts_name_idx" ON "${schema}"."accounts" ("name");`] },
]

let url: string
beforeAll(async () => {
  url = (await freshDatabase('migrate')).url
})

describe('migrate', () => {
  test('lands in its own schema with the ledger there, and a second run applies nothing', async () => {
    const folder = tempFolder('own-schema')
    writeMigrationsFolder(folder, threeSteps('alpha'))
    const publicBefore = await relationsIn(url, 'public')

    const first = await migrate({ url, schema: 'alpha', migrationsFolder: folder })
    expect(first.applied.map((m) => m.name)).toEqual(['0000_step.sql', '0001_step.sql', '0002_step.sql'])
    expect(await relationsIn(url, 'alpha')).toEqual(
      expect.arrayContaining(['__drizzle_migrations', 'accounts', 'accounts_name_idx']),
    )
    expect(await ledgerRows(url, 'alpha')).toHaveLength(3)
    expect(await schemaExists(url, 'drizzle')).toBe(false)
    expect(await relationsIn(url, 'public')).toEqual(publicBefore)

    const second = await migrate({ url, schema: 'alpha', migrationsFolder: folder })
    expect(second.applied).toEqual([])
    expect(await ledgerRows(url, 'alpha')).toHaveLength(3)
  })

  test('logs one line per applied migration with its duration, then a summary', async () => {
    const folder = tempFolder('logging')
    writeMigrationsFolder(folder, threeSteps('logged'))
    const { lines, logger } = collectingLogger()
    await migrate({ url, schema: 'logged', migrationsFolder: folder, logger })
    const messages = lines.map((l) => l.message)
    expect(messages).toHaveLength(4)
    expect(messages[0]).toMatch(/^logged: applied 0000_step\.sql in [\d.]+ ms$/)
    expect(lines[0]!.fields).toMatchObject({ schema: 'logged', migration: '0000_step.sql' })
    expect(messages[3]).toMatch(/^logged: 3 applied, 0 pending, [\d.]+ ms$/)
  })

  test('an edited applied migration stops the run, naming the file', async () => {
    const folder = tempFolder('edited')
    writeMigrationsFolder(folder, threeSteps('edited'))
    await migrate({ url, schema: 'edited', migrationsFolder: folder })
    const file = path.join(folder, '0001_step.sql')
    writeFileSync(file, readFileSync(file, 'utf8').replace('"name" text', '"name" varchar(50)'))

    const error = await migrate({ url, schema: 'edited', migrationsFolder: folder }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect(error).toMatchObject({ code: 'MIGRATION_HASH_MISMATCH', details: { file } })
    expect((error as Error).message).toContain('0001_step.sql')
  })

  test('a never-applied migration older than the newest applied one is an error, not skipped', async () => {
    const folder = tempFolder('out-of-order')
    const base = [
      { tag: '0000_base', when: 1000, statements: ['CREATE TABLE "late"."a" (id int);'] },
      { tag: '0002_newer', when: 3000, statements: ['CREATE TABLE "late"."c" (id int);'] },
    ]
    writeMigrationsFolder(folder, base)
    await migrate({ url, schema: 'late', migrationsFolder: folder })
    // A branch merged later brings a migration generated before 0002_newer.
    writeMigrationsFolder(folder, [
      base[0]!,
      { tag: '0001_from_branch', when: 2000, statements: ['CREATE TABLE "late"."b" (id int);'] },
      base[1]!,
    ])

    const error = await migrate({ url, schema: 'late', migrationsFolder: folder }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'MIGRATION_OUT_OF_ORDER' })
    expect((error as Error).message).toContain('0001_from_branch.sql')
    expect(await relationsIn(url, 'late')).not.toContain('b')
    expect(await ledgerRows(url, 'late')).toHaveLength(2)
  })

  test('a failing migration leaves no trace, keeps earlier ones, and names file and statement', async () => {
    const folder = tempFolder('failing')
    writeMigrationsFolder(folder, [
      { statements: ['CREATE TABLE "broken"."one" (id int);'] },
      { statements: ['CREATE TABLE "broken"."two" (id int);'] },
      {
        statements: [
          'CREATE TABLE "broken"."three" (id int);',
          'INSERT INTO "broken"."three" (id) VALUES (1);',
          'INSERT INTO "broken"."missing_table" (id) VALUES (1);',
        ],
      },
    ])

    const error = await migrate({ url, schema: 'broken', migrationsFolder: folder }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'MIGRATION_FAILED',
      details: {
        file: path.join(folder, '0002_step.sql'),
        statement: 'INSERT INTO "broken"."missing_table" (id) VALUES (1);',
      },
    })
    expect((error as Error).message).toContain('0002_step.sql failed at statement 3 of 3')
    expect((error as Error).message).toContain('missing_table')
    const relations = await relationsIn(url, 'broken')
    expect(relations).toEqual(expect.arrayContaining(['one', 'two']))
    expect(relations).not.toContain('three')
    expect(await ledgerRows(url, 'broken')).toHaveLength(2)
  })

  test('unqualified names in hand-written SQL land in the service schema, not public', async () => {
    const folder = tempFolder('unqualified')
    writeMigrationsFolder(folder, [{ statements: ['CREATE TABLE notes (id int);'] }])
    await migrate({ url, schema: 'scoped', migrationsFolder: folder })
    expect(await relationsIn(url, 'scoped')).toContain('notes')
    expect(await relationsIn(url, 'public')).not.toContain('notes')
  })

  test('reads and writes the same ledger as drizzle-orm migrate()', async () => {
    const folder = tempFolder('compatible')
    const steps = threeSteps('compat')
    writeMigrationsFolder(folder, steps.slice(0, 2))
    const pool = new pg.Pool({ connectionString: url })
    const drizzleMigrateCompat = () =>
      drizzleMigrate(drizzle(pool), {
        migrationsFolder: folder,
        migrationsSchema: 'compat',
        migrationsTable: '__drizzle_migrations',
      })
    try {
      expect((await migrate({ url, schema: 'compat', migrationsFolder: folder })).applied).toHaveLength(2)
      // drizzle sees ours as applied (re-running the first would fail on CREATE SCHEMA)...
      writeMigrationsFolder(folder, steps)
      await drizzleMigrateCompat()
      const rows = await ledgerRows(url, 'compat')
      expect(rows).toHaveLength(3)
      expect(rows[2]!.applied_at).toBeInstanceOf(Date) // our column's default serves drizzle's insert
      // ...and we see drizzle's as applied (re-creating the index would fail).
      expect((await migrate({ url, schema: 'compat', migrationsFolder: folder })).applied).toEqual([])
      expect(await ledgerRows(url, 'compat')).toHaveLength(3)
    } finally {
      await pool.end()
    }
  })

  test('adopts a ledger that drizzle created, keeping its rows without an invented applied time', async () => {
    await query(url, 'CREATE SCHEMA legacy')
    await query(
      url,
      'CREATE TABLE legacy.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
    )
    const folder = tempFolder('legacy')
    writeMigrationsFolder(folder, [
      { statements: ['CREATE TABLE "legacy"."old" (id int);'] },
      { statements: ['CREATE TABLE "legacy"."new" (id int);'] },
    ])
    const [first] = readMigrationFolder(folder)
    await query(url, 'CREATE TABLE legacy.old (id int)')
    await query(url, 'INSERT INTO legacy.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [
      first!.hash,
      first!.when,
    ])

    const result = await migrate({ url, schema: 'legacy', migrationsFolder: folder })
    expect(result.applied.map((m) => m.name)).toEqual(['0001_step.sql'])
    const rows = await ledgerRows(url, 'legacy')
    expect(rows.map((r) => r.applied_at === null)).toEqual([true, false])
  })
})

describe('an existing schema', () => {
  const run = () => inject('testRun')
  const role = () => `${run().prefix}_owner`
  const password = 'owner-pw'

  beforeAll(async () => {
    await query(url, `CREATE ROLE "${role()}" LOGIN PASSWORD '${password}'`)
    await query(url, `CREATE SCHEMA owned AUTHORIZATION "${role()}"`)
    return async () => {
      await query(url, 'DROP SCHEMA IF EXISTS owned CASCADE')
      await query(url, 'DROP SCHEMA IF EXISTS not_yet CASCADE')
      await query(url, `DROP ROLE IF EXISTS "${role()}"`)
    }
  })

  test('a first migration starting with CREATE SCHEMA applies cleanly for its owner without CREATE on the database', async () => {
    const folder = tempFolder('existing')
    writeMigrationsFolder(folder, [
      { statements: ['CREATE SCHEMA "owned";', 'CREATE TABLE "owned"."things" (id int);'] },
    ])
    const ownerUrl = withUser(url, role(), password)
    const canCreate = await query<{ ok: boolean }>(
      ownerUrl,
      "SELECT has_database_privilege(current_database(), 'CREATE') AS ok",
    )
    expect(canCreate[0]!.ok).toBe(false)

    const result = await migrate({ url: ownerUrl, schema: 'owned', migrationsFolder: folder })
    expect(result.applied).toHaveLength(1)
    const owners = await query<{ owner: string }>(
      url,
      `SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'owned.things'::regclass`,
    )
    expect(owners[0]!.owner).toBe(role())
  })

  test('without the schema, that role gets an error that says how to fix it', async () => {
    const folder = tempFolder('missing-schema')
    writeMigrationsFolder(folder, [{ statements: ['CREATE SCHEMA "not_yet";'] }])
    const error = await migrate({
      url: withUser(url, role(), password),
      schema: 'not_yet',
      migrationsFolder: folder,
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'MIGRATION_SCHEMA_INVALID' })
    expect((error as Error).message).toMatch(/permission denied.*make bootstrap/)
  })
})
