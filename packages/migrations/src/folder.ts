// Reads a drizzle-kit migrations folder: meta/_journal.json lists the migrations in
// order, each `<tag>.sql` holds statements separated by `--> statement-breakpoint`.
// The hash is drizzle's own (sha256 of the file text), so both tools agree on it.
// A file whose first line is `-- migrate: no-transaction` runs statement by
// statement instead of in one transaction (see no-transaction.ts); the marker is
// read with plain string code, as the runtime carries no SQL parser.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MigrationError, MigrationErrorCode } from './errors.js'

export const STATEMENT_BREAKPOINT = '--> statement-breakpoint'

/** The first line that opts a migration (or a down) out of the one-transaction rule. */
export const NO_TRANSACTION_MARKER = '-- migrate: no-transaction'

const MARKER_LINE = /^--\s*migrate:\s*no-transaction\s*$/i

/** True when the file's first line is the marker (a BOM, case and spacing aside). */
export function runsWithoutTransaction(sql: string): boolean {
  const firstLine = sql.replace(/^\uFEFF/, '').split('\n', 1)[0] ?? ''
  return MARKER_LINE.test(firstLine.trim())
}

/** The marker on any line but the first, where it does nothing: a lint catches it. */
export function misplacedNoTransactionMarker(sql: string): boolean {
  return sql
    .replace(/^\uFEFF/, '')
    .split('\n')
    .slice(1)
    .some((line) => MARKER_LINE.test(line.trim()))
}

export interface JournalEntry {
  idx: number
  version?: string
  when: number
  tag: string
  breakpoints: boolean
}

export interface Journal {
  version?: string
  dialect?: string
  entries: JournalEntry[]
}

export interface MigrationFile {
  idx: number
  tag: string
  /** The journal timestamp; drizzle stores it as the ledger's created_at. */
  when: number
  /** `<tag>.sql`, as users see it in the folder. */
  name: string
  path: string
  sql: string
  hash: string
  statements: string[]
  /** False when its first line is `-- migrate: no-transaction`. */
  transactional: boolean
  /** `<tag>.down.sql`, which reverses it (see rollback). */
  downPath: string
}

export function journalPath(migrationsFolder: string): string {
  return path.join(migrationsFolder, 'meta', '_journal.json')
}

/**
 * The `drizzle` folder of the package a module belongs to: the nearest one found
 * walking up from the module, so the same code works from src/, dist/ and a bundle.
 */
export function findMigrationsFolder(moduleUrl: string, name = 'drizzle'): string {
  const start = path.dirname(fileURLToPath(moduleUrl))
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, name)
    if (existsSync(path.join(dir, 'package.json')) || existsSync(candidate)) {
      if (existsSync(candidate)) return candidate
      throw new Error(`no ${name}/ folder in ${dir}, the package containing ${start}`)
    }
    if (path.dirname(dir) === dir) throw new Error(`no ${name}/ folder above ${start}`)
  }
}

export function readJournal(migrationsFolder: string): Journal {
  if (!existsSync(migrationsFolder)) {
    throw new MigrationError(
      MigrationErrorCode.FileMissing,
      `migrations folder ${migrationsFolder} does not exist`,
      {
        file: migrationsFolder,
      },
    )
  }
  const file = journalPath(migrationsFolder)
  if (!existsSync(file)) {
    // A service with no migrations yet is valid: nothing to apply.
    return { entries: [] }
  }
  let journal: Journal
  try {
    journal = JSON.parse(readFileSync(file, 'utf8')) as Journal
  } catch (error) {
    throw new MigrationError(MigrationErrorCode.JournalInvalid, `${file} is not valid JSON`, {
      file,
      cause: error,
    })
  }
  if (!Array.isArray(journal.entries)) {
    throw new MigrationError(MigrationErrorCode.JournalInvalid, `${file} has no "entries" array`, { file })
  }
  return journal
}

export function splitStatements(sql: string): string[] {
  return sql
    .split(STATEMENT_BREAKPOINT)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0)
}

export function hashMigration(sql: string): string {
  return createHash('sha256').update(sql).digest('hex')
}

export function readMigrationFolder(migrationsFolder: string): MigrationFile[] {
  const journal = readJournal(migrationsFolder)
  const seenWhen = new Map<number, string>()
  return journal.entries.map((entry) => {
    const name = `${entry.tag}.sql`
    const file = path.join(migrationsFolder, name)
    if (typeof entry.when !== 'number' || typeof entry.tag !== 'string') {
      throw new MigrationError(
        MigrationErrorCode.JournalInvalid,
        `journal entry ${entry.idx} needs a numeric "when" and a string "tag"`,
        { file: journalPath(migrationsFolder) },
      )
    }
    const clash = seenWhen.get(entry.when)
    if (clash) {
      throw new MigrationError(
        MigrationErrorCode.JournalInvalid,
        `${name} and ${clash} share the journal timestamp ${entry.when}; the ledger could not tell them apart`,
        { file },
      )
    }
    seenWhen.set(entry.when, name)
    let sql: string
    try {
      sql = readFileSync(file, 'utf8')
    } catch {
      throw new MigrationError(
        MigrationErrorCode.FileMissing,
        `the journal lists ${name} but ${file} is missing`,
        {
          file,
        },
      )
    }
    return {
      idx: entry.idx,
      tag: entry.tag,
      when: entry.when,
      name,
      path: file,
      sql,
      hash: hashMigration(sql),
      statements: splitStatements(sql),
      transactional: !runsWithoutTransaction(sql),
      downPath: path.join(migrationsFolder, `${entry.tag}.down.sql`),
    }
  })
}
