// For /readyz: are all of this build's migrations recorded in the ledger? For
// /metrics: how many of them are. One indexed query per probe or scrape; the folder
// is read once, when the check is created.
import type pg from 'pg'
import { readMigrationFolder } from './folder.js'
import { ledgerTable } from './ledger.js'

export function migrationsAppliedCheck(options: {
  pool: pg.Pool
  schema: string
  migrationsFolder: string
}): () => Promise<boolean> {
  const count = migrationsLedgerCount(options)
  return async () => {
    const { applied, total } = await count()
    return applied === total
  }
}

/**
 * How many of this build's migrations the ledger holds, of how many. A schema or
 * ledger that does not exist yet (nothing bootstrapped or migrated) holds none.
 */
export function migrationsLedgerCount(options: {
  pool: pg.Pool
  schema: string
  migrationsFolder: string
}): () => Promise<{ applied: number; total: number }> {
  const whens = readMigrationFolder(options.migrationsFolder).map((file) => String(file.when))
  const sql = `SELECT count(DISTINCT created_at)::int AS n FROM ${ledgerTable(options.schema)} WHERE created_at = ANY($1::bigint[])`
  return async () => {
    try {
      const { rows } = await options.pool.query<{ n: number }>(sql, [whens])
      return { applied: rows[0]?.n ?? 0, total: whens.length }
    } catch (error) {
      // undefined_table, invalid_schema_name
      if (['42P01', '3F000'].includes((error as { code?: string }).code ?? '')) {
        return { applied: 0, total: whens.length }
      }
      throw error
    }
  }
}
