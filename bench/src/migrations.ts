// The migration runner: cold apply and the no-op check at 1, 100 and 1000
// migrations, beside the floor of any check (connect + one query) and drizzle's
// own migrate() on the same folder; and 8 runners started at once.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { connectClient } from '@app/db'
import { migrate } from '@app/migrations'
import { writeMigrationsFolder } from '@app/migrations/testing'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import { benchDatabase } from './database.js'
import { medianMs, round, timed } from './timing.js'

export interface MigrationFigures {
  migrations: number
  coldMs: number
  noopMs: number
  noopConnectedMs: number
  connectAndSelectMs: number
  drizzleNoopMs: number
}

function fixture(count: number): string {
  const folder = path.join(mkdtempSync(path.join(tmpdir(), 'bench-migrations-')), 'drizzle')
  writeMigrationsFolder(
    folder,
    Array.from({ length: count }, (_, i) => ({
      statements: [
        ...(i === 0 ? ['CREATE SCHEMA "bench";'] : []),
        `CREATE TABLE "bench"."t_${i}" ("id" serial PRIMARY KEY, "name" text NOT NULL DEFAULT '');`,
      ],
    })),
  )
  return folder
}

export async function benchMigrations(adminUrl: string, counts = [1, 100, 1000]) {
  const figures: MigrationFigures[] = []
  for (const count of counts) {
    const folder = fixture(count)
    const database = await benchDatabase(adminUrl, `mig${count}`)
    const url = database.url
    try {
      const cold = await timed(() => migrate({ url, schema: 'bench', migrationsFolder: folder }))
      const runs = count >= 1000 ? 7 : 21
      const noopMs = await medianMs(runs, () => migrate({ url, schema: 'bench', migrationsFolder: folder }))
      const client = await connectClient(url)
      const noopConnectedMs = await medianMs(runs, () =>
        migrate({ client, schema: 'bench', migrationsFolder: folder }),
      )
      await client.end()
      const connectAndSelectMs = await medianMs(runs, async () => {
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        await c.query('SELECT 1')
        await c.end()
      })
      const pool = new pg.Pool({ connectionString: url, max: 1 })
      const db = drizzle(pool)
      const drizzleNoopMs = await medianMs(runs, () =>
        drizzleMigrate(db, {
          migrationsFolder: folder,
          migrationsSchema: 'bench',
          migrationsTable: '__drizzle_migrations',
        }),
      )
      await pool.end()
      figures.push({
        migrations: count,
        coldMs: round(cold.ms),
        noopMs: round(noopMs, 2),
        noopConnectedMs: round(noopConnectedMs, 2),
        connectAndSelectMs: round(connectAndSelectMs, 2),
        drizzleNoopMs: round(drizzleNoopMs, 2),
      })
    } finally {
      await database.drop()
      rmSync(path.dirname(folder), { recursive: true, force: true })
    }
  }

  // 8 runners at once against an empty database, 100 migrations.
  const folder = fixture(100)
  const database = await benchDatabase(adminUrl, 'race')
  try {
    const race = await timed(() =>
      Promise.all(
        Array.from({ length: 8 }, () =>
          migrate({ url: database.url, schema: 'bench', migrationsFolder: folder }),
        ),
      ),
    )
    const appliedTotal = race.value.reduce((sum, r) => sum + r.applied.length, 0)
    return { figures, concurrent: { runners: 8, migrations: 100, ms: round(race.ms), appliedTotal } }
  } finally {
    await database.drop()
    rmSync(path.dirname(folder), { recursive: true, force: true })
  }
}
