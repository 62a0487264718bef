// Writes migrations folders in drizzle-kit's format, for tests and benchmarks that
// need 1, 100 or 1000 migrations, or a deliberately broken folder.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { NO_TRANSACTION_MARKER, STATEMENT_BREAKPOINT } from '../folder.js'

export interface MigrationSpec {
  /** File name without `.sql`; `NNNN_step` when omitted. */
  tag?: string
  /** Statements, joined with drizzle-kit's breakpoint marker. */
  statements: string[]
  /** Journal timestamp; increasing from `startWhen` when omitted. */
  when?: number
  /** Optional down SQL statements, written to `<tag>.down.sql`. */
  down?: string[]
  /** First line `-- migrate: no-transaction`: the migration (and its down) run statement by statement. */
  noTransaction?: boolean
}

export function writeMigrationsFolder(
  folder: string,
  migrations: MigrationSpec[],
  options: { startWhen?: number } = {},
): { tags: string[] } {
  mkdirSync(path.join(folder, 'meta'), { recursive: true })
  const startWhen = options.startWhen ?? 1_700_000_000_000
  const entries = migrations.map((migration, idx) => {
    const tag = migration.tag ?? `${String(idx).padStart(4, '0')}_step`
    const marker = migration.noTransaction ? `${NO_TRANSACTION_MARKER}\n` : ''
    const sql = (statements: string[]) => `${marker}${statements.join(`\n${STATEMENT_BREAKPOINT}\n`)}`
    writeFileSync(path.join(folder, `${tag}.sql`), sql(migration.statements))
    if (migration.down) writeFileSync(path.join(folder, `${tag}.down.sql`), sql(migration.down))
    return { idx, version: '7', when: migration.when ?? startWhen + idx * 1000, tag, breakpoints: true }
  })
  writeFileSync(
    path.join(folder, 'meta', '_journal.json'),
    `${JSON.stringify({ version: '7', dialect: 'postgresql', entries }, null, 2)}\n`,
  )
  return { tags: entries.map((e) => e.tag) }
}
