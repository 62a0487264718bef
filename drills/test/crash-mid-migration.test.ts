// kill -9 in the middle of a migration. The auth service (its real bundle, copied
// with one extra, slow migration: a table, a row, pg_sleep, a column) starts on a
// database where nothing is migrated; while pg_sleep runs it is killed. Nothing of
// the half-done migration may be visible; on restart the ledger and the schema
// are consistent and the slow migration completes, exactly once.
import { withDatabase } from '@app/db'
import { readMigrationFolder } from '@app/migrations'
import { afterAll, beforeAll, expect, inject, test } from 'vitest'
import { bootstrappedDatabase, eventually, query, serviceDatabase, sessionsOf } from './support/databases.js'
import { saveFigures } from './support/figures.js'
import { copyServiceWithMigrations, type ServiceCopy } from './support/service-copy.js'
import { killLeftovers, type StartOptions, startService, waitUntilReady } from './support/service-process.js'
import { newSigningKey } from './support/tokens.js'

const SLOW_MIGRATION = {
  tag: '9000_drill_slow',
  statements: [
    'CREATE TABLE "auth"."drill_crash" ("id" integer PRIMARY KEY, "note" text NOT NULL)',
    `INSERT INTO "auth"."drill_crash" ("id", "note") VALUES (1, 'before the sleep')`,
    // Long enough that the kill always lands inside it, short enough to wait out twice.
    'SELECT pg_sleep(4)',
    'ALTER TABLE "auth"."drill_crash" ADD COLUMN "after_sleep" boolean DEFAULT true NOT NULL',
  ],
}

let database: { url: string; name: string }
let copy: ServiceCopy

beforeAll(async () => {
  database = await bootstrappedDatabase('crash')
  copy = copyServiceWithMigrations('auth', [SLOW_MIGRATION])
})

afterAll(async () => {
  await killLeftovers()
  copy?.remove()
  saveFigures(import.meta.filename)
})

async function ledger() {
  const rows = await query<{ hash: string; created_at: string }>(
    database.url,
    'SELECT hash, created_at FROM auth.__drizzle_migrations ORDER BY id',
  )
  return rows.map((row) => ({ when: Number(row.created_at), hash: row.hash }))
}

const appliedBy = (lines: ReturnType<Awaited<ReturnType<typeof startService>>['logEntries']>) =>
  lines.filter((entry) => /: applied /.test(entry.msg)).map((entry) => entry.migration)

test('kill -9 during a slow migration, then a restart: consistent ledger and schema, migration completed once', async () => {
  const files = readMigrationFolder(copy.migrationsFolder)
  const expected = files.map((file) => ({ when: file.when, hash: file.hash }))
  const options: StartOptions = { name: 'auth', dir: copy.dir, ...serviceDatabase(database.url, 'auth') }
  // auth does not start without a signing key; both starts share one, as a restart does.
  options.env = { AUTH_JWT_PRIVATE_KEY: (await newSigningKey()).pem }

  const first = await startService(options)
  const sleeping = await eventually(
    async () =>
      (await sessionsOf(database.url, database.name, 'auth-migrate')).find(
        (session) => session.state === 'active' && session.query.includes('pg_sleep'),
      ),
    'the slow migration to reach pg_sleep',
  )
  const exit = await first.kill()
  expect(exit.signal).toBe('SIGKILL')

  // Killed mid-migration: the earlier migrations are recorded, the slow one is not,
  // and nothing it did (a table, a row) is visible, although its server session may
  // still be sleeping: the migration is one transaction.
  expect(await ledger()).toEqual(expected.slice(0, -1))
  const [visible] = await query<{ table: string | null }>(
    database.url,
    "SELECT to_regclass('auth.drill_crash')::text AS table",
  )
  expect(visible?.table).toBeNull()

  const second = await startService(options)
  await waitUntilReady(second)

  expect(await ledger()).toEqual(expected)
  expect(await query(database.url, 'SELECT * FROM auth.drill_crash')).toEqual([
    { id: 1, note: 'before the sleep', after_sleep: true },
  ])
  // auth's own tables, as the migrated template holds them, plus the drill's one.
  const tablesIn = async (url: string) =>
    (
      await query<{ relname: string }>(
        url,
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'auth' AND c.relkind = 'r' ORDER BY c.relname`,
      )
    ).map((t) => t.relname)
  const template = withDatabase(database.url, inject('testRun').prepared.template!)
  expect(await tablesIn(database.url)).toEqual([...(await tablesIn(template)), 'drill_crash'].sort())
  // Each migration was applied by exactly one of the two processes, the slow one by the second.
  expect([...appliedBy(first.logEntries()), ...appliedBy(second.logEntries())].sort()).toEqual(
    files.map((file) => file.name).sort(),
  )
  expect(appliedBy(second.logEntries())).toContain(`${SLOW_MIGRATION.tag}.sql`)
  // The killed process's session is gone (its transaction rolled back), and no migration session lingers.
  expect(await sessionsOf(database.url, database.name, 'auth-migrate')).toEqual([])
  expect(
    await query(database.url, 'SELECT pid FROM pg_stat_activity WHERE pid = $1', [sleeping.pid]),
  ).toEqual([])

  expect(await second.stop()).toEqual({ code: 0, signal: null })
})
