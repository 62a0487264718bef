// Every auth migration can be undone: applied one by one, each down restores the
// schema exactly as the migrations before it left it (catalogs read from
// pg_catalog), and all of it again gives the same schema. Rolling back auth never
// touches billing. Runs as each service's own role, as in production.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { journalPath, migrate, readCatalog, readJournal, rollback, type SchemaCatalog } from '@app/db'
import { createTestDatabase } from '@app/db/testing'
import { bootstrapServices, discoverServices, serviceUrl } from '@app/ops'
import { beforeAll, expect, inject, test } from 'vitest'

const SERVICE = 'auth'
const OTHER = 'billing'

const services = discoverServices()
const own = services.find((s) => s.name === SERVICE)!
const other = services.find((s) => s.name === OTHER)!
const migrationCount = readJournal(own.migrationsFolder).entries.length
let ownUrl: string
let otherUrl: string

beforeAll(async () => {
  const run = inject('testRun')
  const database = await createTestDatabase(run.adminUrl, { prefix: `${run.prefix}_${SERVICE}_roundtrip` })
  await bootstrapServices(database.url, [own, other], {})
  ownUrl = serviceUrl(database.url, own, {})
  otherUrl = serviceUrl(database.url, other, {})
  return () => database.drop()
})

/** A copy of the migrations folder whose journal stops after the first `count` migrations. */
function firstMigrations(count: number): string {
  const folder = path.join(mkdtempSync(path.join(tmpdir(), `${SERVICE}-first-${count}-`)), 'drizzle')
  cpSync(own.migrationsFolder, folder, { recursive: true })
  const journal = readJournal(folder)
  writeFileSync(journalPath(folder), JSON.stringify({ ...journal, entries: journal.entries.slice(0, count) }))
  return folder
}

const catalog = (url: string, schema: string) => readCatalog({ url, schema })
const migrateOwn = (migrationsFolder = own.migrationsFolder) =>
  migrate({ url: ownUrl, schema: own.schema, migrationsFolder })
const rollbackOwn = (steps: number) =>
  rollback({ url: ownUrl, schema: own.schema, migrationsFolder: own.migrationsFolder, steps })

test(`${SERVICE}: up, down, up gives identical catalogs, one migration at a time and all at once`, async () => {
  expect(migrationCount).toBeGreaterThan(0)
  // The schema after each prefix of the migrations: 0 (bootstrapped, empty) to all.
  const after: SchemaCatalog[] = [await catalog(ownUrl, own.schema)]
  for (let count = 1; count <= migrationCount; count++) {
    const folder = firstMigrations(count)
    await migrateOwn(folder)
    after.push(await catalog(ownUrl, own.schema))
    rmSync(path.dirname(folder), { recursive: true })
  }
  expect(after[0]!.tables).toEqual([])
  expect(after[migrationCount]!.tables.length).toBeGreaterThan(0)

  for (let count = migrationCount; count > 0; count--) {
    await rollbackOwn(1)
    expect(await catalog(ownUrl, own.schema), `rolling back migration ${count}`).toEqual(after[count - 1])
  }

  await migrateOwn()
  expect(await catalog(ownUrl, own.schema)).toEqual(after[migrationCount])
  await rollbackOwn(migrationCount)
  expect(await catalog(ownUrl, own.schema)).toEqual(after[0])
  await migrateOwn()
  expect(await catalog(ownUrl, own.schema)).toEqual(after[migrationCount])
})

test(`rolling back ${SERVICE} never changes ${OTHER}'s schema`, async () => {
  await migrateOwn()
  await migrate({ url: otherUrl, schema: other.schema, migrationsFolder: other.migrationsFolder })
  const otherBefore = await catalog(otherUrl, other.schema)
  expect(otherBefore.tables.length).toBeGreaterThan(0)

  await rollbackOwn(migrationCount)
  expect(await catalog(otherUrl, other.schema)).toEqual(otherBefore)
  await migrateOwn()
  expect(await catalog(otherUrl, other.schema)).toEqual(otherBefore)
})
