// Matches a migrations folder against a ledger the way drizzle does (by the journal
// timestamp), and classifies every migration. Shared by migrate, status and rollback.
import type { MigrationFile } from './folder.js'
import type { LedgerRow } from './ledger.js'

export type MigrationState =
  /** Recorded in the ledger with the same hash. */
  | 'applied'
  /** Not recorded yet. */
  | 'pending'
  /** Recorded, but the file has changed since it was applied. */
  | 'changed'
  /**
   * Not recorded, yet older than a recorded one: drizzle's migrate() would skip it
   * forever without a word (drizzle-orm issue 5769). Usually a merge of two branches.
   */
  | 'out-of-order'

export interface MigrationStatus {
  file: MigrationFile
  state: MigrationState
  row?: LedgerRow
}

export interface Comparison {
  migrations: MigrationStatus[]
  /** Ledger rows that match no file: applied by newer code, or a file was deleted. */
  unknownRows: LedgerRow[]
}

export function compareWithLedger(files: MigrationFile[], rows: LedgerRow[]): Comparison {
  const byWhen = new Map(rows.map((row) => [row.createdAt, row]))
  const newestApplied = rows.reduce((max, row) => Math.max(max, row.createdAt), Number.NEGATIVE_INFINITY)
  const known = new Set<number>()
  const migrations = files.map((file): MigrationStatus => {
    const row = byWhen.get(file.when)
    if (row) {
      known.add(file.when)
      return { file, row, state: row.hash === file.hash ? 'applied' : 'changed' }
    }
    return { file, state: file.when < newestApplied ? 'out-of-order' : 'pending' }
  })
  return { migrations, unknownRows: rows.filter((row) => !known.has(row.createdAt)) }
}
