// The round trip every service's migrations must survive, shared by the services'
// test suites: applied one by one, each down restores the schema exactly as the
// migrations before it left it (catalogs read from pg_catalog), all of it again gives
// the same schema, and rolling one service back never touches another's schema.
// Runs as each service's own role, as in production.
import { deepStrictEqual, ok } from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase } from '@app/db'
import { journalPath, migrate, readCatalog, readJournal, rollback, type SchemaCatalog } from '@app/migrations'
import { bootstrapServices, discoverServices, ownerUrl, requireService } from '@app/migrations/authoring'

export function migrationsRoundTrip(names: { service: string; other: string }) {
  const services = discoverServices()
  const own = requireService(names.service, services)
  const other = requireService(names.other, services)
  const migrationCount = readJournal(own.migrationsFolder).entries.length
  let ownUrl = ''
  let otherUrl = ''

  /** A copy of the migrations folder whose journal stops after the first `count` migrations. */
  function firstMigrations(count: number): string {
    const folder = path.join(mkdtempSync(path.join(tmpdir(), `${own.name}-first-${count}-`)), 'drizzle')
    cpSync(own.migrationsFolder, folder, { recursive: true })
    const journal = readJournal(folder)
    writeFileSync(
      journalPath(folder),
      JSON.stringify({ ...journal, entries: journal.entries.slice(0, count) }),
    )
    return folder
  }

  const catalog = (url: string, schema: string) => readCatalog({ url, schema })
  const migrateOwn = (migrationsFolder = own.migrationsFolder) =>
    migrate({ url: ownUrl, schema: own.schema, migrationsFolder })
  const rollbackOwn = (steps: number) =>
    rollback({ url: ownUrl, schema: own.schema, migrationsFolder: own.migrationsFolder, steps })

  return {
    /** A database with both services' roles (no migrations yet); returns its teardown. */
    async setup(run: { adminUrl: string; prefix: string }): Promise<() => Promise<void>> {
      const database = await createScratchDatabase(run.adminUrl, {
        prefix: `${run.prefix}_${own.name}_roundtrip`,
      })
      await bootstrapServices(database.url, [own, other], {})
      ownUrl = ownerUrl(database.url, own, {})
      otherUrl = ownerUrl(database.url, other, {})
      return () => database.drop()
    },

    /** Up, down, up gives identical catalogs, one migration at a time and all at once. */
    async upDownUp(): Promise<void> {
      ok(migrationCount > 0, `${own.name} has no migrations`)
      // The schema after each prefix of the migrations: 0 (bootstrapped, empty) to all.
      const after: SchemaCatalog[] = [await catalog(ownUrl, own.schema)]
      for (let count = 1; count <= migrationCount; count++) {
        const folder = firstMigrations(count)
        await migrateOwn(folder)
        after.push(await catalog(ownUrl, own.schema))
        rmSync(path.dirname(folder), { recursive: true })
      }
      deepStrictEqual(after[0]!.tables, [])
      ok(after[migrationCount]!.tables.length > 0, 'the migrations create no table')

      for (let count = migrationCount; count > 0; count--) {
        await rollbackOwn(1)
        deepStrictEqual(
          await catalog(ownUrl, own.schema),
          after[count - 1],
          `rolling back migration ${count}`,
        )
      }

      await migrateOwn()
      deepStrictEqual(await catalog(ownUrl, own.schema), after[migrationCount], 'all migrations again')
      await rollbackOwn(migrationCount)
      deepStrictEqual(await catalog(ownUrl, own.schema), after[0], 'all rolled back at once')
      await migrateOwn()
      deepStrictEqual(await catalog(ownUrl, own.schema), after[migrationCount], 'all migrations a third time')
    },

    /** Rolling this service back never changes the other service's schema. */
    async otherUntouched(): Promise<void> {
      await migrateOwn()
      await migrate({ url: otherUrl, schema: other.schema, migrationsFolder: other.migrationsFolder })
      const otherBefore = await catalog(otherUrl, other.schema)
      ok(otherBefore.tables.length > 0, `${other.name} has no tables to compare`)

      await rollbackOwn(migrationCount)
      deepStrictEqual(await catalog(otherUrl, other.schema), otherBefore, `${other.name} after the rollback`)
      await migrateOwn()
      deepStrictEqual(
        await catalog(otherUrl, other.schema),
        otherBefore,
        `${other.name} after migrating again`,
      )
    },
  }
}
