// For /readyz: are all of this build's migrations recorded in the ledger? One
// indexed query per probe; the folder is read once, when the check is created.
import type pg from 'pg'
import { readMigrationFolder } from './folder.js'
import { ledgerTable } from './ledger.js'

export function migrationsAppliedCheck(options: {
  pool: pg.Pool
  schema: string
  migrationsFolder: string
}): () => Promise<boolean> {
  const whens = readMigrationFolder(options.migrationsFolder).map((file) => String(file.when))
  const sql = `SELECT count(DISTINCT created_at)::int AS n FROM ${ledgerTable(options.schema)} WHERE created_at = ANY($1::bigint[])`
  return async () => {
    const { rows } = await options.pool.query<{ n: number }>(sql, [whens])
    return rows[0]?.n === whens.length
  }
}
