// A migration never waits in the lock queue longer than its lock_timeout: behind a
// long transaction it gives up, rolls back, retries with backoff, and finally names
// who holds the lock. Its limits are SET LOCAL, so the connection it used keeps its
// own settings (through a transaction pooler, that connection serves other clients).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { MigrationError, migrate, rollback } from '../src/index.js'
import { writeMigrationsFolder } from '../src/testing/index.js'
import { collectingLogger, freshDatabase, ledgerRows, query, tempFolder } from './helpers.js'

let url: string
const holders: pg.Client[] = []

beforeAll(async () => {
  url = (await freshDatabase('locktimeout')).url
})

afterEach(async () => {
  await Promise.all(holders.splice(0).map((client) => client.end().catch(() => {})))
})

/** A session that reads `table` in an open transaction, as a long report would. */
async function longReader(table: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName })
  await client.connect()
  holders.push(client)
  await client.query('BEGIN')
  await client.query(`SELECT count(*) FROM ${table}`)
  return client
}

function folderWith(schema: string): string {
  const folder = tempFolder(schema)
  writeMigrationsFolder(folder, [
    {
      statements: [`CREATE TABLE "${schema}"."items" ("id" serial PRIMARY KEY);`],
      down: [`DROP TABLE "${schema}"."items";`],
    },
    {
      statements: [`ALTER TABLE "${schema}"."items" ADD COLUMN "note" text;`],
      down: [`ALTER TABLE "${schema}"."items" DROP COLUMN "note";`],
    },
  ])
  return folder
}

describe('lock_timeout', () => {
  test('behind a long transaction: retried with backoff, then an error naming the holder; nothing applied', async () => {
    const folder = tempFolder('blocked')
    writeMigrationsFolder(folder, [
      { statements: [`CREATE TABLE "blocked"."items" ("id" serial PRIMARY KEY);`] },
    ])
    await migrate({ url, schema: 'blocked', migrationsFolder: folder })
    const reader = await longReader('blocked.items', 'nightly-report')
    const { rows } = await reader.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')

    writeMigrationsFolder(folder, [
      { statements: [`CREATE TABLE "blocked"."items" ("id" serial PRIMARY KEY);`] },
      { statements: [`ALTER TABLE "blocked"."items" ADD COLUMN "note" text;`] },
    ])
    const { lines, logger } = collectingLogger()
    const error = await migrate({
      url,
      schema: 'blocked',
      migrationsFolder: folder,
      logger,
      lockTimeoutMs: 100,
      lockRetries: 2,
      lockRetryDelayMs: 10,
    }).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(MigrationError)
    expect((error as MigrationError).code).toBe('MIGRATION_LOCK_TIMEOUT')
    const message = (error as Error).message
    expect(message).toContain('0001_step.sql waited longer than lock_timeout (100 ms)')
    expect(message).toContain(`pid ${rows[0]!.pid}`)
    expect(message).toContain('application_name "nightly-report"')
    expect(message).toMatch(/in a transaction since \d{4}-\d\d-\d\dT/)
    expect(message).toContain('AccessShareLock on items')
    const retries = lines.filter((l) => l.level === 'warn' && /retry \d of 2/.test(l.message))
    expect(retries.map((l) => l.fields.attempt)).toEqual([1, 2])
    expect(retries[0]!.message).toContain('nightly-report')
    expect(await ledgerRows(url, 'blocked')).toHaveLength(1)
    const columns = await query(
      url,
      "SELECT 1 FROM information_schema.columns WHERE table_schema = 'blocked' AND column_name = 'note'",
    )
    expect(columns).toEqual([])
  })

  test('the holder finishes during the backoff: the retry applies the migration', async () => {
    const folder = tempFolder('retried')
    writeMigrationsFolder(folder, [
      { statements: [`CREATE TABLE "retried"."items" ("id" serial PRIMARY KEY);`] },
    ])
    await migrate({ url, schema: 'retried', migrationsFolder: folder })
    const reader = await longReader('retried.items', 'short-report')
    writeMigrationsFolder(folder, [
      { statements: [`CREATE TABLE "retried"."items" ("id" serial PRIMARY KEY);`] },
      { statements: [`ALTER TABLE "retried"."items" ADD COLUMN "note" text;`] },
    ])
    const { lines, logger } = collectingLogger()
    const migrating = migrate({
      url,
      schema: 'retried',
      migrationsFolder: folder,
      logger,
      lockTimeoutMs: 100,
      lockRetries: 5,
      lockRetryDelayMs: 300,
    })
    // Commit the read once the first attempt has given up.
    for (;;) {
      if (lines.some((l) => l.level === 'warn')) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await reader.query('COMMIT')
    const result = await migrating
    expect(result.applied.map((m) => m.name)).toEqual(['0001_step.sql'])
    expect(await ledgerRows(url, 'retried')).toHaveLength(2)
  })

  test('rollback is bounded by the same lock_timeout', async () => {
    const folder = folderWith('rolledback')
    await migrate({ url, schema: 'rolledback', migrationsFolder: folder })
    await longReader('rolledback.items', 'reader-during-rollback')
    const error = await rollback({
      url,
      schema: 'rolledback',
      migrationsFolder: folder,
      steps: 1,
      lockTimeoutMs: 100,
      lockRetries: 0,
    }).catch((e: unknown) => e)
    expect((error as MigrationError).code).toBe('MIGRATION_LOCK_TIMEOUT')
    expect((error as Error).message).toContain('reader-during-rollback')
    expect(await ledgerRows(url, 'rolledback')).toHaveLength(2)
  })
})

describe('settings', () => {
  test('are SET LOCAL: the connection the runner used keeps its own statement_timeout, lock_timeout and search_path', async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query("SET statement_timeout = '4321ms'")
      await client.query("SET lock_timeout = '1234ms'")
      const before = await client.query('SHOW search_path')
      await migrate({
        client,
        schema: 'settings',
        migrationsFolder: folderWith('settings'),
        lockTimeoutMs: 777,
      })
      const settings = await client.query<{ st: string; lt: string; sp: string }>(
        "SELECT current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt, current_setting('search_path') AS sp",
      )
      expect(settings.rows[0]).toEqual({ st: '4321ms', lt: '1234ms', sp: before.rows[0]!.search_path })
    } finally {
      await client.end()
    }
  })

  test('a role whose statement_timeout is shorter than a migration still migrates (the runner lifts it for its own transactions)', async () => {
    const role = `short_timeout_${randomBytes(3).toString('hex')}`
    await query(url, `CREATE ROLE ${role} LOGIN PASSWORD 'pw'`)
    await query(url, `GRANT CREATE ON DATABASE "${new URL(url).pathname.slice(1)}" TO ${role}`)
    await query(url, `ALTER ROLE ${role} SET statement_timeout = '50ms'`)
    try {
      const roleUrl = new URL(url)
      roleUrl.username = role
      roleUrl.password = 'pw'
      const folder = tempFolder('slow')
      writeMigrationsFolder(folder, [
        {
          statements: ['CREATE SCHEMA "slow";', 'CREATE TABLE "slow"."t" (id int);', 'SELECT pg_sleep(0.3);'],
        },
      ])
      const result = await migrate({ url: roleUrl.toString(), schema: 'slow', migrationsFolder: folder })
      expect(result.applied).toHaveLength(1)
    } finally {
      await query(url, 'DROP SCHEMA IF EXISTS slow CASCADE')
      await query(url, `DROP OWNED BY ${role}`)
      await query(url, `DROP ROLE ${role}`)
    }
  })
})

describe('the ledger', () => {
  test('is written only by its owner: roles given DML on new tables by default privileges may only read it', async () => {
    const tag = randomBytes(3).toString('hex')
    const owner = `ledger_owner_${tag}`
    const app = `ledger_app_${tag}`
    const database = new URL(url).pathname.slice(1)
    for (const role of [owner, app]) {
      await query(url, `CREATE ROLE ${role} LOGIN PASSWORD 'pw'`)
      await query(url, `GRANT CONNECT ON DATABASE "${database}" TO ${role}`)
    }
    await query(url, `CREATE SCHEMA ledgerwall AUTHORIZATION ${owner}`)
    await query(url, `GRANT USAGE ON SCHEMA ledgerwall TO ${app}`)
    await query(
      url,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ledgerwall GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`,
    )
    await query(
      url,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ledgerwall GRANT USAGE, SELECT ON SEQUENCES TO ${app}`,
    )
    const as = (role: string) => {
      const u = new URL(url)
      u.username = role
      u.password = 'pw'
      return u.toString()
    }
    try {
      await migrate({ url: as(owner), schema: 'ledgerwall', migrationsFolder: folderWith('ledgerwall') })
      const outcome = async (sql: string) =>
        query(as(app), sql).then(
          () => 'ok',
          (error: { code?: string }) => error.code,
        )
      expect(await outcome('SELECT count(*) FROM ledgerwall.__drizzle_migrations')).toBe('ok')
      expect(await outcome('INSERT INTO ledgerwall.items DEFAULT VALUES')).toBe('ok')
      expect(await outcome("INSERT INTO ledgerwall.__drizzle_migrations (hash) VALUES ('forged')")).toBe(
        '42501',
      )
      expect(await outcome('UPDATE ledgerwall.__drizzle_migrations SET hash = hash')).toBe('42501')
      expect(await outcome('DELETE FROM ledgerwall.__drizzle_migrations')).toBe('42501')
      expect(await outcome('TRUNCATE ledgerwall.__drizzle_migrations')).toBe('42501')
      expect(await outcome("SELECT nextval('ledgerwall.__drizzle_migrations_id_seq')")).toBe('42501')
    } finally {
      await query(url, 'DROP SCHEMA ledgerwall CASCADE')
      for (const role of [app, owner]) {
        await query(url, `DROP OWNED BY ${role}`)
        await query(url, `DROP ROLE ${role}`)
      }
    }
  })
})
