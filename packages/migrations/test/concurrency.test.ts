import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { beforeAll, describe, expect, test } from 'vitest'
import { migrate } from '../src/index.js'
import { writeMigrationsFolder } from '../src/testing/index.js'
import { freshDatabase, ledgerRows, query, tempFolder } from './helpers.js'

const RUNNERS = 8
const ROUNDS = 20

// Schema, two tables, then a data migration: the one that must never run twice.
const withDataMigration = (schema: string) => [
  {
    statements: [
      `CREATE SCHEMA "${schema}";`,
      `CREATE TABLE "${schema}"."plans" ("id" serial PRIMARY KEY, "name" text NOT NULL);`,
    ],
  },
  { statements: [`CREATE TABLE "${schema}"."events" ("id" serial PRIMARY KEY);`] },
  { statements: [`INSERT INTO "${schema}"."plans" ("name") VALUES ('starter');`] },
]

let url: string
beforeAll(async () => {
  url = (await freshDatabase('race')).url
})

async function race(schema: string, folder: string, runners = RUNNERS) {
  const results = await Promise.allSettled(
    Array.from({ length: runners }, () => migrate({ url, schema, migrationsFolder: folder })),
  )
  const failures = results.filter((r) => r.status === 'rejected')
  const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.applied.map((m) => m.name) : []))
  return { failures, applied }
}

async function expectAppliedOnce(schema: string, migrations: number) {
  const rows = await ledgerRows(url, schema)
  expect(rows).toHaveLength(migrations)
  expect(new Set(rows.map((r) => r.created_at)).size).toBe(migrations)
  const plans = await query(url, `SELECT name FROM "${schema}".plans`)
  expect(plans).toEqual([{ name: 'starter' }])
}

describe(`${RUNNERS} runners started at once`, () => {
  test(`on an empty database, ${ROUNDS} rounds: every migration and the data row exactly once`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const schema = `empty_${round}`
      const folder = tempFolder(schema)
      writeMigrationsFolder(folder, withDataMigration(schema))
      const { failures, applied } = await race(schema, folder)
      expect(failures).toEqual([])
      expect(applied.sort()).toEqual(['0000_step.sql', '0001_step.sql', '0002_step.sql'])
      await expectAppliedOnce(schema, 3)
    }
  })

  test(`with a pending data migration, ${ROUNDS} rounds: the row is inserted exactly once`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const schema = `pending_${round}`
      const folder = tempFolder(schema)
      const steps = withDataMigration(schema)
      writeMigrationsFolder(folder, steps.slice(0, 2))
      await migrate({ url, schema, migrationsFolder: folder })
      writeMigrationsFolder(folder, steps)
      const { failures, applied } = await race(schema, folder)
      expect(failures).toEqual([])
      expect(applied).toEqual(['0002_step.sql'])
      await expectAppliedOnce(schema, 3)
    }
  })

  test('as separate processes', async () => {
    const script = fileURLToPath(new URL('./fixtures/run-migrate.mjs', import.meta.url))
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))
    expect(existsSync(dist), 'build @app/db first (pnpm build): this test runs the compiled runner').toBe(
      true,
    )
    const schema = 'processes'
    const folder = tempFolder(schema)
    writeMigrationsFolder(folder, withDataMigration(schema))
    const exits = await Promise.all(
      Array.from({ length: RUNNERS }, () => runProcess(process.execPath, [script, url, schema, folder])),
    )
    expect(exits.map((e) => e.code)).toEqual(Array(RUNNERS).fill(0))
    const applied = exits.flatMap((e) => JSON.parse(e.stdout) as string[])
    expect(applied.sort()).toEqual(['0000_step.sql', '0001_step.sql', '0002_step.sql'])
    await expectAppliedOnce(schema, 3)
  })
})

describe('two schemas migrated at the same time', () => {
  test('neither waits for the other nor sees its objects', async () => {
    const folderA = tempFolder('a')
    const folderB = tempFolder('b')
    writeMigrationsFolder(folderA, withDataMigration('svc_a'))
    writeMigrationsFolder(folderB, withDataMigration('svc_b'))

    // Hold svc_a's migration lock, as a long migration would.
    const holder = new pg.Client({ connectionString: url })
    await holder.connect()
    await holder.query('BEGIN')
    await holder.query("SELECT pg_advisory_xact_lock(x'6d696772'::int, hashtext('svc_a'))")
    let aDone = false
    const a = migrate({ url, schema: 'svc_a', migrationsFolder: folderA }).then((r) => {
      aDone = true
      return r
    })
    try {
      const b = await migrate({ url, schema: 'svc_b', migrationsFolder: folderB })
      expect(b.applied).toHaveLength(3)
      expect(aDone).toBe(false)
    } finally {
      await holder.query('COMMIT')
      await holder.end()
    }
    expect((await a).applied).toHaveLength(3)

    const tablesOf = async (schema: string) =>
      (
        await query<{ tablename: string }>(
          url,
          'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1',
          [schema],
        )
      ).map((r) => r.tablename)
    expect(await tablesOf('svc_a')).toEqual(['__drizzle_migrations', 'events', 'plans'])
    expect(await tablesOf('svc_b')).toEqual(['__drizzle_migrations', 'events', 'plans'])
    const ledgerA = await ledgerRows(url, 'svc_a')
    const ledgerB = await ledgerRows(url, 'svc_b')
    expect(ledgerA).toHaveLength(3)
    expect(ledgerB).toHaveLength(3)
    // Same journal timestamps, different files: each ledger holds only its own hashes.
    expect(ledgerA.map((r) => r.hash)).not.toEqual(ledgerB.map((r) => r.hash))
  })
})

function runProcess(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: path.dirname(fileURLToPath(import.meta.url)),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
