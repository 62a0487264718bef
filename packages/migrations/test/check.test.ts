// make check on a throwaway copy of a service (see fakeService) and a real
// database: drift both ways (models without a migration; a database altered by
// hand), pending migrations, and the migrations lint.
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { addMigration } from '../src/authoring/add-migration.js'
import { bootstrapServices } from '../src/authoring/bootstrap.js'
import { runCheck } from '../src/authoring/check.js'
import { ownerUrl } from '../src/authoring/roles.js'
import type { ServiceInfo } from '../src/authoring/workspace.js'
import { migrate, readJournal } from '../src/index.js'
import { output } from '../src/testing/index.js'
import { fakeService, otherServices, sql } from './authoring-helpers.js'

const models = (extra = '') => `import { pgSchema, text, uuid, varchar } from 'drizzle-orm/pg-core'
export const auth = pgSchema('auth')
export const users = auth.table('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: varchar('username', { length: 32 }).notNull(),${extra}
})
`
const { service, setModels } = fakeService('auth', models())
const billing = { ...service, name: 'billing', schema: 'billing' } as ServiceInfo
let live: ScratchDatabase

async function generate(msg: string) {
  const printed = output()
  const code = await addMigration({ service, otherSchemas: otherServices(service), msg, ...printed.print })
  expect(code, printed.all()).toBe(0)
}

const migrateLive = () =>
  migrate({
    url: ownerUrl(live.url, service, {}),
    schema: 'auth',
    migrationsFolder: service.migrationsFolder,
  })

async function check(adminUrl: string | null = live.url) {
  const printed = output()
  const failures = await runCheck({
    services: [service],
    allServices: [service, billing],
    adminUrl,
    liveName: 'the test database',
    env: {},
    ...printed.print,
  })
  return { failures, out: printed.out.join('\n'), err: printed.err.join('\n') }
}

/** Runs `change`, then puts the file back as it was. */
async function withEdited(file: string, edit: (text: string) => string, run: () => Promise<void>) {
  const original = readFileSync(file, 'utf8')
  writeFileSync(file, edit(original))
  try {
    await run()
  } finally {
    writeFileSync(file, original)
  }
}

beforeAll(async () => {
  const run = inject('testRun')
  live = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_check` })
  await bootstrapServices(live.url, [service], {})
  await generate('init')
  await migrateLive()
  return () => live.drop()
})

describe('check', () => {
  test('passes when models, migrations and the live schema agree', async () => {
    const result = await check()
    expect(result.err).toBe('')
    expect(result.failures).toBe(0)
    expect(result.out).toContain('auth: models match 0000_init.sql')
    expect(result.out).toContain('auth: 1 migration(s) and 1 down(s) pass the lint')
    expect(result.out).toContain(
      'auth: schema "auth" on the test database matches its 1 applied migration(s)',
    )
  })

  test('models changed without add-migration: fails with the SQL the missing migration would hold', async () => {
    setModels(models("\n  bio: varchar('bio', { length: 200 }),"))
    try {
      const result = await check(null)
      expect(result.failures).toBe(1)
      expect(result.err).toContain('auth: FAIL models differ from 0000_init.sql')
      expect(result.err).toContain('ALTER TABLE "auth"."users" ADD COLUMN "bio" varchar(200);')
    } finally {
      setModels(models())
    }
  })

  test('a check that cannot run fails on its own, and the others still run', async () => {
    setModels(`${models()}\nthrow new Error('models do not load')\n`)
    try {
      const result = await check()
      expect(result.failures).toBe(1)
      expect(result.err).toContain('auth: FAIL could not check the models: models do not load')
      expect(result.out).toContain('pass the lint')
      expect(result.out).toContain('matches its 1 applied migration(s)')
    } finally {
      setModels(models())
    }
  })

  test('a live database altered by hand: fails naming what differs, both ways', async () => {
    await sql(
      live.url,
      `ALTER TABLE auth.users ADD COLUMN hacked text;
       ALTER TABLE auth.users ALTER COLUMN username TYPE varchar(64);
       ALTER TABLE auth.users DROP CONSTRAINT users_pkey;`,
    )
    try {
      const result = await check()
      expect(result.failures).toBe(1)
      expect(result.err).toContain(
        'auth: FAIL schema "auth" on the test database differs from what its applied migrations build',
      )
      expect(result.err).toContain('+ column auth.users.hacked (in the live database, not in the migrations)')
      expect(result.err).toContain(
        '~ column auth.users.username\n      type: character varying(32) -> character varying(64)',
      )
      expect(result.err).toContain(
        '- constraint users_pkey on auth.users (in the migrations, missing in the live database)',
      )
    } finally {
      await sql(
        live.url,
        `ALTER TABLE auth.users DROP COLUMN hacked;
         ALTER TABLE auth.users ALTER COLUMN username TYPE varchar(32);
         ALTER TABLE auth.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);`,
      )
    }
    expect((await check()).failures).toBe(0)
  })

  test('a pending migration fails; the applied part is still compared', async () => {
    setModels(models("\n  bio: varchar('bio', { length: 200 }),"))
    await generate('add bio')
    const result = await check()
    expect(result.failures).toBe(1)
    expect(result.err).toContain('auth: FAIL 1 migration(s) pending on the test database: 0001_add_bio.sql')
    expect(result.out).toContain('matches its 1 applied migration(s)')
    await migrateLive()
    expect((await check()).failures).toBe(0)
  })

  test('a database the service was never migrated on has nothing to compare', async () => {
    const run = inject('testRun')
    const empty = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_check_empty` })
    try {
      const result = await check(empty.url)
      expect(result.failures).toBe(0)
      expect(result.out).toContain('auth: not migrated on the test database yet; nothing to compare')
    } finally {
      await empty.drop()
    }
  })

  test('the lint catches a hand-edited cross-schema statement, in a migration or a down', async () => {
    const up = path.join(service.migrationsFolder, '0001_add_bio.sql')
    await withEdited(
      up,
      (text) =>
        `${text}\n--> statement-breakpoint\nINSERT INTO billing.plans (name) SELECT username FROM "auth"."users";`,
      async () => {
        const result = await check(null)
        expect(result.failures).toBe(1)
        expect(result.err).toContain(
          `${up}: names schema "billing" (relation billing.plans, another service's schema)`,
        )
        expect(result.err).toContain('INSERT INTO billing.plans (name) SELECT username FROM "auth"."users";')
      },
    )
    const down = path.join(service.migrationsFolder, '0001_add_bio.down.sql')
    await withEdited(
      down,
      (text) => `${text}--> statement-breakpoint\nSET search_path TO public;\n`,
      async () => {
        const result = await check(null)
        expect(result.failures).toBe(1)
        expect(result.err).toContain(`${down}: sets search_path to public`)
      },
    )
  })

  test('a statement unsafe under traffic fails with its fix; waived with a reason it passes, and the waiver is listed', async () => {
    const up = path.join(service.migrationsFolder, '0001_add_bio.sql')
    const index = 'CREATE INDEX "users_bio_idx" ON "auth"."users" ("bio");'
    await withEdited(
      up,
      (text) => `${text}\n--> statement-breakpoint\n${index}`,
      async () => {
        const result = await check(null)
        expect(result.failures).toBe(1)
        expect(result.err).toContain(
          `${up}: require-concurrent-index-creation: During normal index creation, table updates are blocked`,
        )
        expect(result.err).toContain(`      ${index}`)
        expect(result.err).toContain('    fix: Writes to the table wait for the whole index build.')
      },
    )
    await withEdited(
      up,
      (text) =>
        `${text}\n--> statement-breakpoint\n-- No row yet: the table is created empty in 0000.\n-- squawk-ignore require-concurrent-index-creation\n${index}`,
      async () => {
        const result = await check(null)
        expect(result.failures, result.err).toBe(0)
        expect(result.out).toContain(
          `auth: note: 0001_add_bio.sql waives require-concurrent-index-creation on "${index}": No row yet: the table is created empty in 0000.`,
        )
      },
    )
  })

  test('a file marked no-transaction: each statement alone and re-runnable, or check fails', async () => {
    const up = path.join(service.migrationsFolder, '0001_add_bio.sql')
    await withEdited(
      up,
      (text) =>
        `-- migrate: no-transaction\n${text}\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "users_bio_idx" ON "auth"."users" ("bio"); SELECT 1;`,
      async () => {
        const result = await check(null)
        expect(result.failures).toBe(1)
        expect(result.err).toContain(`${up}: prefer-robust-stmts: Missing \`IF NOT EXISTS\``)
        expect(result.err).toContain(`${up}: one-statement-per-step: 2 statements between two breakpoints`)
      },
    )
  })

  test('journal timestamps must increase', async () => {
    const journal = path.join(service.migrationsFolder, 'meta', '_journal.json')
    const [first] = readJournal(service.migrationsFolder).entries
    await withEdited(
      journal,
      (text) => text.replace(/("when": )(\d+)(,\s*"tag": "0001_add_bio")/, `$1${first!.when - 1}$3`),
      async () => {
        const result = await check(null)
        expect(result.failures).toBe(1)
        expect(result.err).toContain('journal "when" of 0001_add_bio')
      },
    )
  })

  test('a custom migration without its hand-written down fails, naming the file', async () => {
    const printed = output()
    await addMigration({
      service,
      otherSchemas: ['billing'],
      msg: 'backfill',
      custom: true,
      ...printed.print,
    })
    const down = path.join(service.migrationsFolder, '0002_backfill.down.sql')
    const result = await check(null)
    expect(result.failures).toBe(1)
    expect(result.err).toContain(`${down}: missing down for the custom migration 0002_backfill.sql`)
    appendFileSync(down, '-- nothing to undo: the backfill only filled values\n')
    expect((await check(null)).failures).toBe(0)
    rmSync(down)
  })
})
