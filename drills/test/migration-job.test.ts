// Migrations as a deploy step of their own: the image's one-shot entry
// (`node dist/migrate.js`) applies them as the schema owner and exits 0 at head;
// replicas started with MIGRATE_ON_START=false stay unready until it has; during a
// rolling deploy, replicas of the previous version stay ready and keep serving when
// the ledger holds migrations newer than their code.
import { readMigrationFolder } from '@app/migrations'
import { startProcess } from '@app/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  bootstrappedDatabase,
  ownerRoleUrl,
  query,
  runtimeRoleUrl,
  service,
  serviceDatabase,
} from './support/databases.js'
import { countRows, saveFigures } from './support/figures.js'
import { json, send } from './support/http.js'
import { copyServiceWithMigrations, type ServiceCopy } from './support/service-copy.js'
import { killLeftovers, startService, waitUntilReady } from './support/service-process.js'
import { authOptions, register } from './support/stack.js'
import { newSigningKey } from './support/tokens.js'

let copy: ServiceCopy

beforeAll(() => {
  // The next release: one additive migration (a nullable column), written as expand/contract asks.
  copy = copyServiceWithMigrations('auth', [
    {
      tag: '9100_drill_add_nickname',
      statements: ['ALTER TABLE "auth"."users" ADD COLUMN "drill_nickname" varchar(32)'],
    },
  ])
})

afterAll(async () => {
  await killLeftovers()
  copy?.remove()
  saveFigures(import.meta.filename)
})

/** `node dist/migrate.js` in `dir`, as a Kubernetes Job runs it: its exit code and output. */
async function runMigrateEntry(
  dir: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const job = startProcess({
    name: 'migrate',
    command: process.execPath,
    args: ['dist/migrate.js'],
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
  })
  const { code } = await job.exited
  return { code, output: job.lines.join('\n') }
}

async function ledgerSize(url: string): Promise<number> {
  const [row] = await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM auth.__drizzle_migrations')
  return row!.n
}

describe('node dist/migrate.js', () => {
  test('applies every migration as the owner and exits 0; again, applies nothing and exits 0', async () => {
    const database = await bootstrappedDatabase('job')
    const files = readMigrationFolder(service('auth').migrationsFolder)
    const first = await runMigrateEntry(service('auth').dir, {
      MIGRATION_DATABASE_URL: ownerRoleUrl(database.url, 'auth'),
    })
    expect(first.code, first.output).toBe(0)
    expect(first.output).toContain(`auth: at head, ${files.length} migration(s) applied in all`)
    expect(await ledgerSize(database.url)).toBe(files.length)

    const again = await runMigrateEntry(service('auth').dir, {
      MIGRATION_DATABASE_URL: ownerRoleUrl(database.url, 'auth'),
    })
    expect(again.code, again.output).toBe(0)
    expect(again.output).not.toMatch(/: applied \d{4}_/)
  })

  test('as the runtime role it cannot: exit 1, naming the permission it lacks; nothing applied', async () => {
    const database = await bootstrappedDatabase('job_runtime')
    const result = await runMigrateEntry(service('auth').dir, {
      DATABASE_URL: runtimeRoleUrl(database.url, 'auth'),
    })
    expect(result.code).toBe(1)
    expect(result.output).toMatch(/permission denied for schema auth/)
    const [ledger] = await query<{ exists: boolean }>(
      database.url,
      "SELECT to_regclass('auth.__drizzle_migrations') IS NOT NULL AS exists",
    )
    expect(ledger!.exists).toBe(false)
  })

  test('without a database URL: exit 1 naming MIGRATION_DATABASE_URL', async () => {
    const result = await runMigrateEntry(service('auth').dir, {})
    expect(result.code).toBe(1)
    expect(result.output).toContain('MIGRATION_DATABASE_URL is required')
  })
})

describe('MIGRATE_ON_START=false', () => {
  test('a replica waits, unready, until the job has migrated, then serves', async () => {
    const database = await bootstrappedDatabase('wait')
    const key = await newSigningKey()
    const options = authOptions(database.url, key, { env: { MIGRATE_ON_START: 'false' } })
    const replica = await startService({ ...options, migrationDatabaseUrl: undefined })
    // Listening, alive, not ready, and its API refuses with 503 while it waits.
    for (;;) {
      const health = await fetch(`${replica.baseUrl}/healthz`).then(
        (r) => r.status,
        () => 0,
      )
      if (health === 200) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect((await send(replica.baseUrl, { method: 'GET', path: '/readyz' })).status).toBe(503)
    const early = await send(replica.baseUrl, { method: 'POST', path: '/auth/users', ...json({}) })
    expect(early.status).toBe(503)
    expect(early.json().code).toBe('SERVICE_STARTING')
    expect(replica.running).toBe(true)

    const job = await runMigrateEntry(service('auth').dir, {
      MIGRATION_DATABASE_URL: ownerRoleUrl(database.url, 'auth'),
    })
    expect(job.code, job.output).toBe(0)
    await waitUntilReady(replica)
    const user = await register(replica)
    const found = await query(database.url, 'SELECT id FROM auth.users WHERE id = $1', [user.id])
    expect(countRows(1, found.length)).toBe(0)
    // It never ran a migration itself.
    expect(replica.logEntries().some((entry) => /: applied /.test(entry.msg))).toBe(false)
  })
})

describe('a rolling deploy', () => {
  test("the previous version's replicas stay ready and serving after the next version's migration", async () => {
    const database = await bootstrappedDatabase('rolling')
    const key = await newSigningKey()
    const old = await startService(authOptions(database.url, key))
    await waitUntilReady(old)

    const job = await runMigrateEntry(copy.dir, {
      MIGRATION_DATABASE_URL: ownerRoleUrl(database.url, 'auth'),
    })
    expect(job.code, job.output).toBe(0)
    expect(job.output).toContain('applied 9100_drill_add_nickname.sql')
    expect(await ledgerSize(database.url)).toBe(readMigrationFolder(copy.migrationsFolder).length)

    // The old code knows fewer migrations than the ledger holds: still ready, still writing.
    const readyz = await send(old.baseUrl, { method: 'GET', path: '/readyz' })
    expect(readyz.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } })
    await register(old)
    // A new-version replica starts on the same database and is ready too.
    const next = await startService({
      ...authOptions(database.url, key),
      dir: copy.dir,
      ...serviceDatabase(database.url, 'auth'),
    })
    await waitUntilReady(next)
    await register(next)
    // And an old replica restarted now (a rollback of the code, not the schema) still starts.
    await old.stop()
    const restarted = await startService(authOptions(database.url, key))
    await waitUntilReady(restarted)
    expect(
      restarted.logEntries().some((entry) => /not in .*drizzle/.test(entry.msg) && entry.level === 40),
    ).toBe(true)
  })
})
