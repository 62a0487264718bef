import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase, queryOnce as query, type ScratchDatabase } from '@app/db'
import { afterAll, inject } from 'vitest'

/** A database of this test file's own, dropped after the file. */
export async function freshDatabase(purpose: string): Promise<ScratchDatabase> {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_${purpose}` })
  afterAll(() => database.drop())
  return database
}

export function tempFolder(name: string): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'migrations-')), name)
}

export { query }

/** Tables and other relations in a schema, by name. */
export async function relationsIn(url: string, schema: string): Promise<string[]> {
  const rows = await query<{ relname: string }>(
    url,
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 ORDER BY c.relname`,
    [schema],
  )
  return rows.map((r) => r.relname)
}

export async function ledgerRows(url: string, schema: string) {
  return query<{ hash: string; created_at: string; applied_at: Date }>(
    url,
    `SELECT hash, created_at, applied_at FROM "${schema}".__drizzle_migrations ORDER BY created_at`,
  )
}

export async function schemaExists(url: string, schema: string): Promise<boolean> {
  const rows = await query(url, 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
  return rows.length === 1
}

export function collectingLogger() {
  const lines: { level: 'info' | 'warn'; message: string; fields: Record<string, unknown> }[] = []
  return {
    lines,
    logger: {
      info: (fields: Record<string, unknown>, message: string) =>
        lines.push({ level: 'info', message, fields }),
      warn: (fields: Record<string, unknown>, message: string) =>
        lines.push({ level: 'warn', message, fields }),
    },
  }
}
