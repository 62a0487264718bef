// `ops status` and `ops rollback` (make status / make rollback) on the real
// services' migrations, against a database of this file's own.
import { createScratchDatabase } from '@app/db'
import { readJournal } from '@app/migrations'
import { bootstrapServices, discoverServices, UsageError } from '@app/migrations/authoring'
import { output } from '@app/testkit'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import type { CommandContext } from '../src/command.js'
import { migrateCommand } from '../src/commands/migrate.js'
import { rollbackCommand } from '../src/commands/rollback.js'
import { statusCommand } from '../src/commands/status.js'

const auth = discoverServices().find((s) => s.name === 'auth')!
const tags = readJournal(auth.migrationsFolder).entries.map((e) => e.tag)
let env: Record<string, string>

beforeAll(async () => {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_commands` })
  await bootstrapServices(database.url, [auth], {})
  env = { DATABASE_URL: database.url }
  return () => database.drop()
})

async function ops(command: typeof statusCommand, options: CommandContext['options']) {
  const printed = output()
  const code = await command.run({ options, env, ...printed.print })
  return { code, out: printed.out, err: printed.err }
}

/** The status table's rows as [migration, applied at, pending, hash, down]. */
async function statusRows() {
  const { code, out } = await ops(statusCommand, { svc: 'auth' })
  expect(code).toBe(0)
  expect(out[1]).toMatch(/^migration +applied at +pending +hash +down$/)
  return out.slice(3, 3 + tags.length).map((line) => line.split(/ {2,}/))
}

describe('status and rollback commands', () => {
  test('status lists every migration: applied at, pending, hash, down', async () => {
    expect(tags.length).toBeGreaterThan(0)
    const before = await statusRows()
    expect(before).toEqual(tags.map((tag) => [`${tag}.sql`, '-', 'yes', '-', 'yes']))

    expect((await ops(migrateCommand, { svc: 'auth' })).code).toBe(0)
    const after = await statusRows()
    for (const [i, row] of after.entries()) {
      expect(row[0]).toBe(`${tags[i]}.sql`)
      expect(row[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)
      expect(row.slice(2)).toEqual(['no', 'ok', 'yes'])
    }
  })

  test('rollback undoes the newest migration by default, which status then shows pending', async () => {
    const { code, out } = await ops(rollbackCommand, { svc: 'auth' })
    expect(code).toBe(0)
    expect(out.join('\n')).toMatch(new RegExp(`auth: rolled back ${tags.at(-1)}\\.sql in [\\d.]+ ms`))
    const rows = await statusRows()
    expect(rows.at(-1)!.slice(1)).toEqual(['-', 'yes', '-', 'yes'])
    expect((await ops(migrateCommand, { svc: 'auth' })).code).toBe(0)
  })

  test.each(['0', '-1', 'two', '1; rm -rf /'])('steps=%s is a usage error', async (steps) => {
    await expect(ops(rollbackCommand, { svc: 'auth', steps })).rejects.toThrow(UsageError)
  })

  test('rollback needs a valid svc', async () => {
    await expect(ops(rollbackCommand, {})).rejects.toThrow(/svc is required/)
    await expect(ops(rollbackCommand, { svc: 'nope' })).rejects.toThrow(/unknown service 'nope'/)
  })
})
