// Alembic's `current` and `history` in one read-only view: every migration in the
// folder, whether and when it was applied, and any file changed since.
import { existsSync } from 'node:fs'
import { compareWithLedger, type MigrationState } from './compare.js'
import { readMigrationFolder } from './folder.js'
import { assertSchemaName, readLedger } from './ledger.js'
import { type ConnectionOptions, withConnection } from './session.js'

export interface StatusOptions extends ConnectionOptions {
  schema: string
  migrationsFolder: string
}

export interface StatusEntry {
  name: string
  /** `unknown`: in the ledger but not in the folder. */
  state: MigrationState | 'unknown'
  appliedAt: Date | null
  hasDown: boolean
}

export interface StatusReport {
  schema: string
  entries: StatusEntry[]
  applied: number
  pending: number
  /** True when every file is applied unchanged and nothing is out of order. */
  upToDate: boolean
}

export async function status(options: StatusOptions): Promise<StatusReport> {
  assertSchemaName(options.schema)
  const files = readMigrationFolder(options.migrationsFolder)
  return withConnection(options, `${options.schema}-status`, async (client) => {
    const { migrations, unknownRows } = compareWithLedger(files, await readLedger(client, options.schema))
    const entries: StatusEntry[] = migrations.map(({ file, state, row }) => ({
      name: file.name,
      state,
      appliedAt: row?.appliedAt ?? null,
      hasDown: existsSync(file.downPath),
    }))
    for (const row of unknownRows) {
      entries.push({
        name: `(unknown, created_at ${row.createdAt})`,
        state: 'unknown',
        appliedAt: row.appliedAt,
        hasDown: false,
      })
    }
    return {
      schema: options.schema,
      entries,
      applied: migrations.filter((m) => m.state === 'applied').length,
      pending: migrations.filter((m) => m.state === 'pending').length,
      upToDate: migrations.every((m) => m.state === 'applied'),
    }
  })
}
