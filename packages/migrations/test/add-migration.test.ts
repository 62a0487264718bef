// add-migration on a throwaway copy of a service (see fakeService): drizzle-kit
// really runs, and each generated migration and down is applied and rolled back on
// a real database as the service's role.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createScratchDatabase } from '@app/db'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { addMigration, customMigrationTemplate } from '../src/authoring/add-migration.js'
import { bootstrapServices } from '../src/authoring/bootstrap.js'
import { writeDowns } from '../src/authoring/down-migrations.js'
import { modelDrift } from '../src/authoring/model-drift.js'
import { ownerUrl } from '../src/authoring/roles.js'
import { UsageError } from '../src/authoring/workspace.js'
import {
  migrate,
  readCatalog,
  readJournal,
  readMigrationFolder,
  rollback,
  runsWithoutTransaction,
} from '../src/index.js'
import { output } from '../src/testing/index.js'
import { fakeService, otherServices } from './authoring-helpers.js'

const header = `import { integer, pgEnum, pgSchema, text, uuid, varchar } from 'drizzle-orm/pg-core'
export const auth = pgSchema('auth')
`
const users = (columns: string) => `${header}export const users = auth.table('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  ${columns}
})
`
const v1 = users(`username: varchar('username', { length: 32 }).notNull(),
  nickname: text('nickname'),`)

const { service, setModels, root } = fakeService('auth', v1)
let url: string

beforeAll(async () => {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_addmig` })
  await bootstrapServices(database.url, [service], {})
  url = ownerUrl(database.url, service, {})
  return () => database.drop()
})

async function add(msg: string | undefined, options: { custom?: boolean; noTransaction?: boolean } = {}) {
  const printed = output()
  const code = await addMigration({
    service,
    otherSchemas: otherServices(service),
    msg,
    ...options,
    ...printed.print,
  })
  return { code, ...printed }
}

/** Every file in the migrations folder with its content: "nothing changed" means this is equal. */
function folderState() {
  if (!existsSync(service.migrationsFolder)) return {}
  return Object.fromEntries(
    readdirSync(service.migrationsFolder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const file = path.join(e.parentPath, e.name)
        return [path.relative(service.migrationsFolder, file), readFileSync(file, 'utf8')]
      }),
  )
}

const newestTag = () => readJournal(service.migrationsFolder).entries.at(-1)!.tag

/** Applies the newest migration, rolls it back, applies it again: the down must undo it exactly. */
async function expectDownUndoesNewest() {
  const before = await readCatalog({ url, schema: 'auth' })
  await migrate({ url, schema: 'auth', migrationsFolder: service.migrationsFolder })
  const after = await readCatalog({ url, schema: 'auth' })
  expect(after).not.toEqual(before)
  await rollback({ url, schema: 'auth', migrationsFolder: service.migrationsFolder, steps: 1 })
  expect(await readCatalog({ url, schema: 'auth' })).toEqual(before)
  await migrate({ url, schema: 'auth', migrationsFolder: service.migrationsFolder })
  expect(await readCatalog({ url, schema: 'auth' })).toEqual(after)
}

describe('add-migration', () => {
  test('a missing msg is an error and generates nothing', async () => {
    await expect(add(undefined)).rejects.toThrow(UsageError)
    await expect(add('  ')).rejects.toThrow(/msg is required/)
    await expect(add('$(!!)')).rejects.toThrow(/no letters or digits/)
    expect(folderState()).toEqual({})
  })

  test('generates the SQL and its down; shell metacharacters in msg are only text', async () => {
    const result = await add('init; touch PWNED $(touch PWNED2) `touch PWNED3` && rm -rf ..')
    expect(result.code).toBe(0)
    expect(newestTag()).toBe('0000_init_touch_pwned_touch_pwned2_touch_pwned3_rm_rf')
    const sql = readFileSync(path.join(service.migrationsFolder, `${newestTag()}.sql`), 'utf8')
    expect(sql).toContain('CREATE TABLE "auth"."users"')
    const down = readFileSync(path.join(service.migrationsFolder, `${newestTag()}.down.sql`), 'utf8')
    // The schema outlives its migrations: no DROP SCHEMA in the down.
    expect(down).toBe(
      `-- Reverses ${newestTag()}.sql. Generated from drizzle-kit's snapshots by ops (make add-migration); review it like the migration.\nDROP TABLE "auth"."users" CASCADE;\n`,
    )
    expect(result.out.join('\n')).toContain(
      `wrote drizzle/${newestTag()}.sql and drizzle/${newestTag()}.down.sql`,
    )
    for (const dir of [root, service.dir, path.dirname(root)]) {
      expect(readdirSync(dir).filter((f) => f.startsWith('PWNED'))).toEqual([])
    }
    await expectDownUndoesNewest()
  })

  test('unchanged models generate nothing', async () => {
    const before = folderState()
    const result = await add('nothing')
    expect(result.code).toBe(0)
    expect(result.out.join('\n')).toContain('nothing to generate')
    expect(folderState()).toEqual(before)
  })

  test('an additive change passes: exit 0, nothing printed but what it wrote', async () => {
    setModels(
      users(`username: varchar('username', { length: 32 }).notNull(),
  nickname: text('nickname'),
  bio: text('bio'),`),
    )
    const result = await add('add bio')
    expect(result.code, result.all()).toBe(0)
    expect(result.err).toEqual([])
    await expectDownUndoesNewest()
  })

  test('squawk’s findings that matter under traffic are errors, each with its statement and fix: exit 1, the files stay', async () => {
    setModels(users(`username: varchar('username', { length: 16 }).notNull(),`))
    const result = await add('shrink users')
    expect(result.code).toBe(1)
    const tag = newestTag()
    const printed = result.err.join('\n')
    expect(printed).toContain(
      `error: drizzle/${tag}.sql: ban-drop-column: Dropping a column may break existing clients.\n      ALTER TABLE "auth"."users" DROP COLUMN "nickname";\n    fix: The previous release's replicas may still read or write it`,
    )
    expect(printed).toContain('-- squawk-ignore ban-drop-column" right above the statement')
    // A narrowing type change rewrites the table: the expand/contract steps to write instead.
    expect(printed).toContain(
      `error: drizzle/${tag}.sql: changing-column-type: Changing a column type requires an \`ACCESS EXCLUSIVE\` lock`,
    )
    expect(printed).toContain(
      'release N (expand):   ALTER TABLE "auth"."users" ADD COLUMN "username_new" varchar(16);',
    )
    expect(printed).toContain('make check fails until then')
    expect(existsSync(path.join(service.migrationsFolder, `${tag}.sql`))).toBe(true)
    await expectDownUndoesNewest()
  })

  test('a NOT NULL column without a default: the expand/contract migrations to write instead', async () => {
    setModels(
      users(`username: varchar('username', { length: 16 }).notNull(),
  logins: integer('logins').notNull(),`),
    )
    const result = await add('count logins')
    expect(result.code).toBe(1)
    const printed = result.err.join('\n')
    expect(printed).toContain(`drizzle/${newestTag()}.sql: adding-required-field:`)
    expect(printed).toContain(
      'release N (expand):   ALTER TABLE "auth"."users" ADD COLUMN "logins" integer;   (the model column without .notNull() for now)',
    )
    expect(printed).toContain(
      'ALTER TABLE "auth"."users" ADD CONSTRAINT "users_logins_not_null" CHECK ("logins" IS NOT NULL) NOT VALID;',
    )
    expect(printed).toContain('ALTER TABLE "auth"."users" VALIDATE CONSTRAINT "users_logins_not_null";')
    await expectDownUndoesNewest()
  })

  test('a widening type change without a rewrite is a warning only (the previous snapshot says what it was)', async () => {
    setModels(
      users(`username: varchar('username', { length: 48 }).notNull(),
  logins: integer('logins').notNull(),`),
    )
    const result = await add('widen username')
    expect(result.code, result.all()).toBe(0)
    expect(result.err.join('\n')).toContain(
      `warning: drizzle/${newestTag()}.sql: changing-column-type: changes auth.users.username from varchar(16) to varchar(48): a widening PostgreSQL does without rewriting or scanning the table`,
    )
    await expectDownUndoesNewest()
  })

  test('a possible rename needs drizzle-kit’s prompt: without a terminal it fails and leaves nothing', async () => {
    const before = folderState()
    setModels(
      users(`handle: varchar('handle', { length: 16 }).notNull(),
  logins: integer('logins').notNull(),`),
    )
    const result = await add('rename username')
    expect(result.code).toBe(1)
    expect(result.all()).toMatch(/drizzle-kit generate failed/)
    expect(folderState()).toEqual(before)
  })

  test.each([
    [
      'another service’s schema',
      `export const plans = pgSchema('billing').table('plans', { id: integer('id') })`,
      '"billing"',
    ],
    [
      'public',
      `export const mood = pgEnum('mood', ['ok'])\nexport const moods = auth.table('moods', { m: mood('m') })`,
      '"public"',
    ],
  ])('SQL that names %s is refused and removed', async (_case, extra, named) => {
    const before = folderState()
    setModels(
      `${users(`username: varchar('username', { length: 48 }).notNull(),
  logins: integer('logins').notNull(),`)}${extra}\n`,
    )
    const result = await add('reach out')
    expect(result.code).toBe(1)
    const message = result.err.join('\n')
    expect(message).toContain('would reach outside the "auth" schema, so it was not added')
    expect(message).toContain(`names schema ${named}`)
    expect(folderState()).toEqual(before)
  })

  test('--custom makes an empty migration whose down must be written by hand', async () => {
    setModels(
      users(`username: varchar('username', { length: 48 }).notNull(),
  logins: integer('logins').notNull(),`),
    )
    const result = await add('backfill logins', { custom: true })
    expect(result.code, result.all()).toBe(0)
    const tag = newestTag()
    expect(tag).toBe('0005_backfill_logins')
    const sql = readFileSync(path.join(service.migrationsFolder, `${tag}.sql`), 'utf8')
    expect(sql).toBe(customMigrationTemplate('backfill logins', false))
    expect(sql).toContain('make "-- migrate: no-transaction" the first line')
    expect(existsSync(path.join(service.migrationsFolder, `${tag}.down.sql`))).toBe(false)
    expect(result.out.join('\n')).toContain(`put the SQL that reverses it in drizzle/${tag}.down.sql`)
  })

  test('noTransaction writes a custom migration whose first line opts out of the transaction', async () => {
    const result = await add('index users by logins', { noTransaction: true })
    expect(result.code, result.all()).toBe(0)
    const tag = newestTag()
    const file = path.join(service.migrationsFolder, `${tag}.sql`)
    const sql = readFileSync(file, 'utf8')
    expect(sql.split('\n')[0]).toBe('-- migrate: no-transaction')
    expect(runsWithoutTransaction(sql)).toBe(true)
    expect(readMigrationFolder(service.migrationsFolder).at(-1)!.transactional).toBe(false)
    // Filled in as the template says, it applies and rolls back statement by statement.
    writeFileSync(
      file,
      `${sql}CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_logins_idx" ON "auth"."users" ("logins");\n`,
    )
    writeFileSync(
      path.join(service.migrationsFolder, `${tag}.down.sql`),
      '-- migrate: no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS "auth"."users_logins_idx";\n',
    )
    await expectDownUndoesNewest()
  })

  test('a custom migration records a change of the models, which its SQL makes (the fix the lint gives for an unsafe generated one)', async () => {
    setModels(`import { index, integer, pgSchema, uuid, varchar } from 'drizzle-orm/pg-core'
export const auth = pgSchema('auth')
export const users = auth.table(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: varchar('username', { length: 48 }).notNull(),
    logins: integer('logins').notNull(),
  },
  (table) => [index('users_username_idx').on(table.username)],
)
`)
    const result = await add('index usernames', { noTransaction: true })
    const tag = newestTag()
    const file = path.join(service.migrationsFolder, `${tag}.sql`)
    const down = path.join(service.migrationsFolder, `${tag}.down.sql`)
    // The generated down is a starting point: a plain DROP INDEX, which the lint refuses
    // in a file without a transaction (not CONCURRENTLY, not IF EXISTS).
    expect(result.code, result.all()).toBe(1)
    expect(result.err.join('\n')).toContain(`error: drizzle/${tag}.down.sql: `)
    expect(readFileSync(down, 'utf8')).toMatch(
      /^-- migrate: no-transaction\n.*\nDROP INDEX "auth"."users_username_idx";\n$/,
    )
    const sql = readFileSync(file, 'utf8')
    expect(sql).toContain(
      '--   CREATE INDEX "users_username_idx" ON "auth"."users" USING btree ("username");',
    )
    // Recorded: nothing left for the next add-migration to generate.
    expect((await modelDrift(service)).statements).toEqual([])
    writeFileSync(
      file,
      `${sql}CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_username_idx" ON "auth"."users" USING btree ("username");\n`,
    )
    writeFileSync(
      down,
      '-- migrate: no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS "auth"."users_username_idx";\n',
    )
    await expectDownUndoesNewest()
  })

  test('write-downs restores a missing generated down and names the custom one that lacks its own', async () => {
    const [first] = readJournal(service.migrationsFolder).entries
    const down = path.join(service.migrationsFolder, `${first!.tag}.down.sql`)
    const content = readFileSync(down, 'utf8')
    rmSync(down)
    const report = await writeDowns(service.migrationsFolder, 'auth')
    expect(report.written).toEqual([down])
    expect(readFileSync(down, 'utf8')).toBe(content)
    expect(report.missing).toEqual([path.join(service.migrationsFolder, '0005_backfill_logins.down.sql')])
  })
})
