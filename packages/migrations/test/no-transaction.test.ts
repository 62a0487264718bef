// Migrations whose first line is `-- migrate: no-transaction`: statement by
// statement under the schema's session-level lock, exactly once across runners,
// the ledger row only when every statement succeeded, safe to run again after a
// failure (an INVALID index left by an interrupted concurrent build is rebuilt),
// bounded by lock_timeout per statement, and rolled back by their downs.
import pg from 'pg'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { MigrationError, migrate, rollback } from '../src/index.js'
import { type MigrationSpec, writeMigrationsFolder } from '../src/testing/index.js'
import { collectingLogger, freshDatabase, ledgerRows, query, tempFolder } from './helpers.js'

let url: string
const sessions: pg.Client[] = []

beforeAll(async () => {
  url = (await freshDatabase('notx')).url
})

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((client) => client.end().catch(() => {})))
})

async function session(applicationName = 'notx-test'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName })
  await client.connect()
  sessions.push(client)
  return client
}

/** A table with rows in a transactional first migration, then `more`. */
function folderWith(schema: string, more: MigrationSpec[]): string {
  const folder = tempFolder(schema)
  writeMigrationsFolder(folder, [
    {
      statements: [
        `CREATE TABLE "${schema}"."items" ("id" serial PRIMARY KEY, "code" text, "note" text)`,
        `INSERT INTO "${schema}"."items" ("code") SELECT 'c' || (n % 500) FROM generate_series(1, 2000) AS n`,
      ],
      down: [`DROP TABLE "${schema}"."items"`],
    },
    ...more,
  ])
  return folder
}

async function indexes(schema: string) {
  return query<{ name: string; valid: boolean }>(
    url,
    `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname NOT LIKE '%pkey' ORDER BY 1`,
    [schema],
  )
}

async function advisoryLocks(): Promise<number> {
  const [row] = await query<{ n: number }>(
    url,
    "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
  )
  return row!.n
}

const concurrentIndex = (schema: string, unique = false): MigrationSpec => ({
  noTransaction: true,
  statements: [
    `CREATE ${unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY IF NOT EXISTS "items_code_idx" ON "${schema}"."items" ("code")`,
  ],
  down: [`DROP INDEX CONCURRENTLY IF EXISTS "${schema}"."items_code_idx"`],
})

describe('a migration marked -- migrate: no-transaction', () => {
  test('runs CREATE INDEX CONCURRENTLY, records it once, and leaves no lock behind', async () => {
    const folder = folderWith('notx_cic', [concurrentIndex('notx_cic')])
    const { lines, logger } = collectingLogger()
    const result = await migrate({ url, schema: 'notx_cic', migrationsFolder: folder, logger })
    expect(result.applied.map((m) => m.name)).toEqual(['0000_step.sql', '0001_step.sql'])
    expect(lines.map((l) => l.message)).toContain(
      'notx_cic: applying 0001_step.sql without a transaction, statement by statement',
    )
    expect(await indexes('notx_cic')).toEqual([{ name: 'items_code_idx', valid: true }])
    expect(await ledgerRows(url, 'notx_cic')).toHaveLength(2)
    expect(await advisoryLocks()).toBe(0)
    expect((await migrate({ url, schema: 'notx_cic', migrationsFolder: folder })).applied).toEqual([])
  })

  test('on the caller’s connection: its own statement_timeout, lock_timeout and search_path are put back', async () => {
    const client = await session()
    await client.query("SET statement_timeout = '4321ms'")
    await client.query("SET lock_timeout = '1234ms'")
    const before = await client.query('SHOW search_path')
    await migrate({
      client,
      schema: 'notx_settings',
      migrationsFolder: folderWith('notx_settings', [concurrentIndex('notx_settings')]),
      lockTimeoutMs: 777,
    })
    const { rows } = await client.query(
      "SELECT current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt, current_setting('search_path') AS sp",
    )
    expect(rows[0]).toEqual({ st: '4321ms', lt: '1234ms', sp: before.rows[0]!.search_path })
    const held = await client.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
    )
    expect(held.rows[0]!.n).toBe(0)
  })

  test('a statement that fails: the ones before it stay, no ledger row; fixed, the next run completes the file', async () => {
    const schema = 'notx_partial'
    const folder = folderWith(schema, [
      {
        noTransaction: true,
        statements: [
          `CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_code_idx" ON "${schema}"."items" ("code")`,
          `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "items_note_key" ON "${schema}"."items" ("code")`,
        ],
      },
    ])
    const error = await migrate({ url, schema, migrationsFolder: folder }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect(error).toMatchObject({ code: 'MIGRATION_FAILED' })
    const message = (error as Error).message
    expect(message).toContain('0001_step.sql failed at statement 2 of 2: could not create unique index')
    expect(message).toContain(
      'Statements 1 to 1 of 0001_step.sql ran and stay (it has no transaction to roll back); it is not in the ledger, so the next migrate runs it again from its first statement',
    )
    // The failed unique build's INVALID index, which would still refuse duplicate
    // inserts, is dropped at once; the first index stays.
    expect(await indexes(schema)).toEqual([{ name: 'items_code_idx', valid: true }])
    expect(await ledgerRows(url, schema)).toHaveLength(1)
    expect(await advisoryLocks()).toBe(0)

    await query(url, `UPDATE "${schema}"."items" SET "code" = 'u' || id`)
    const again = await migrate({ url, schema, migrationsFolder: folder })
    expect(again.applied.map((m) => m.name)).toEqual(['0001_step.sql'])
    expect(await indexes(schema)).toEqual([
      { name: 'items_code_idx', valid: true },
      { name: 'items_note_key', valid: true },
    ])
    expect(await ledgerRows(url, schema)).toHaveLength(2)
  })

  test('an INVALID index left by an interrupted build is dropped and built again, not skipped by IF NOT EXISTS', async () => {
    const schema = 'notx_invalid'
    const folder = folderWith(schema, [concurrentIndex(schema, true)])
    await migrate({ url, schema, migrationsFolder: folderWith(schema, []) })
    // What a runner killed mid-build leaves: an INVALID index of that name.
    await query(
      url,
      `CREATE UNIQUE INDEX CONCURRENTLY "items_code_idx" ON "${schema}"."items" ("code")`,
    ).catch(() => {})
    expect(await indexes(schema)).toEqual([{ name: 'items_code_idx', valid: false }])
    await query(url, `UPDATE "${schema}"."items" SET "code" = 'u' || id`)

    const { lines, logger } = collectingLogger()
    await migrate({ url, schema, migrationsFolder: folder, logger })
    expect(
      lines.some((l) => l.level === 'warn' && l.message.includes('index items_code_idx is INVALID')),
    ).toBe(true)
    expect(await indexes(schema)).toEqual([{ name: 'items_code_idx', valid: true }])
    expect(await ledgerRows(url, schema)).toHaveLength(2)
  })

  test('behind a long transaction: each statement bounded by lock_timeout, retried, then an error naming the holder', async () => {
    const schema = 'notx_blocked'
    const folder = folderWith(schema, [
      {
        noTransaction: true,
        statements: [
          `CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_code_idx" ON "${schema}"."items" ("code")`,
          `ALTER TABLE "${schema}"."items" ADD COLUMN IF NOT EXISTS "extra" text`,
        ],
      },
    ])
    await migrate({ url, schema, migrationsFolder: folderWith(schema, []) })
    await query(url, `CREATE TABLE "${schema}"."other" (id int)`)
    // A long report on another table: its snapshot is what CREATE INDEX CONCURRENTLY must wait out.
    const reader = await session('nightly-report')
    const pid = (await reader.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
    await reader.query(`SELECT count(*) FROM "${schema}"."other"`)

    const { lines, logger } = collectingLogger()
    const error = await migrate({
      url,
      schema,
      migrationsFolder: folder,
      logger,
      lockTimeoutMs: 200,
      lockRetries: 1,
      lockRetryDelayMs: 10,
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'MIGRATION_LOCK_TIMEOUT' })
    const message = (error as Error).message
    expect(message).toContain(
      'notx_blocked: 0001_step.sql (statement 1 of 2) waited longer than lock_timeout (200 ms)',
    )
    expect(message).toContain(`pid ${pid}`)
    expect(message).toContain('application_name "nightly-report"')
    expect(message).toContain('a snapshot older than the statement')
    expect(message).toMatch(/query "SELECT count\(\*\) FROM/)
    expect(message).toContain('Nothing of 0001_step.sql was applied')
    expect(lines.filter((l) => /retry 1 of 1/.test(l.message))).toHaveLength(1)
    // Each timed-out build left an INVALID index: dropped before the retry, and after the last.
    expect(await indexes(schema)).toEqual([])
    expect(await ledgerRows(url, schema)).toHaveLength(1)

    await reader.query('COMMIT')
    expect((await migrate({ url, schema, migrationsFolder: folder })).applied).toHaveLength(1)
    expect(await indexes(schema)).toEqual([{ name: 'items_code_idx', valid: true }])
  })

  test('runners started together apply it exactly once, and a waiting runner never deadlocks the concurrent build', async () => {
    const schema = 'notx_race'
    // An index slow to build (about 1 ms a row), longer than deadlock_timeout: the
    // runners waiting meanwhile hold no old snapshot for the build to wait for at its
    // end, or the deadlock detector would cancel it (see schema-transaction.ts).
    const folder = folderWith(schema, [
      {
        statements: [
          `CREATE FUNCTION "${schema}"."slow_code"(t text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT t FROM (SELECT pg_sleep(0.001)) AS s $$`,
        ],
      },
      {
        noTransaction: true,
        statements: [
          `CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_code_idx" ON "${schema}"."items" ("${schema}"."slow_code"("code"))`,
        ],
      },
      { statements: [`INSERT INTO "${schema}"."items" ("code") VALUES ('once')`] },
    ])
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => migrate({ url, schema, migrationsFolder: folder })),
    )
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    const applied = results.flatMap((r) =>
      r.status === 'fulfilled' ? r.value.applied.map((m) => m.name) : [],
    )
    expect(applied.sort()).toEqual(['0000_step.sql', '0001_step.sql', '0002_step.sql', '0003_step.sql'])
    expect(await ledgerRows(url, schema)).toHaveLength(4)
    expect(
      await query(url, `SELECT count(*)::int AS n FROM "${schema}"."items" WHERE code = 'once'`),
    ).toEqual([{ n: 1 }])
    expect(await indexes(schema)).toEqual([{ name: 'items_code_idx', valid: true }])
    expect(await advisoryLocks()).toBe(0)
  })

  test('rollback runs a down marked no-transaction statement by statement, then deletes the ledger row', async () => {
    const schema = 'notx_down'
    const folder = folderWith(schema, [concurrentIndex(schema)])
    await migrate({ url, schema, migrationsFolder: folder })
    const result = await rollback({ url, schema, migrationsFolder: folder, steps: 1 })
    expect(result.rolledBack.map((m) => m.name)).toEqual(['0001_step.sql'])
    expect(await indexes(schema)).toEqual([])
    expect(await ledgerRows(url, schema)).toHaveLength(1)
    expect(await advisoryLocks()).toBe(0)
  })

  test('a statement PostgreSQL refuses in a transaction, in a transactional file: the error says how to opt out', async () => {
    const schema = 'notx_missing_marker'
    const folder = folderWith(schema, [{ ...concurrentIndex(schema), noTransaction: false }])
    const error = await migrate({ url, schema, migrationsFolder: folder }).catch((e: unknown) => e)
    expect((error as Error).message).toContain(
      'CREATE INDEX CONCURRENTLY cannot run inside a transaction block',
    )
    expect((error as Error).message).toContain(
      'put it in a migration whose first line is "-- migrate: no-transaction"',
    )
  })
})
