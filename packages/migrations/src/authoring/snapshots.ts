// drizzle-kit's snapshots (drizzle/meta/NNNN_snapshot.json: the models as they were
// when each migration was generated) and the SQL between two of them, through
// drizzle-kit's own generateMigration().
//
// generateMigration() asks on the terminal whether a column (table, enum...) that
// disappeared and one that appeared are a rename, and rejects outright without a
// terminal. So diffSnapshots() never lets it ask: where both kinds of change meet,
// it diffs in two steps (first everything that appears, then everything that
// disappears), and renames that the forward migration recorded in the snapshot's
// `_meta` are undone explicitly instead of being guessed.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { quoteIdent } from '@app/db'
import { type JournalEntry, readJournal } from '../index.js'

/** The parts of a Postgres snapshot (version 7) that the down generator touches. */
export interface Snapshot {
  id: string
  prevId: string
  version: string
  dialect: string
  tables: Record<string, SnapshotTable>
  enums: Record<string, unknown>
  schemas: Record<string, string>
  sequences: Record<string, unknown>
  roles: Record<string, unknown>
  policies: Record<string, unknown>
  views: Record<string, unknown>
  _meta: { schemas: Record<string, string>; tables: Record<string, string>; columns: Record<string, string> }
  [key: string]: unknown
}

interface SnapshotTable {
  name: string
  schema: string
  columns: Record<string, { name: string; [key: string]: unknown }>
  indexes?: Record<string, { columns: { expression: string; isExpression?: boolean }[] }>
  foreignKeys?: Record<
    string,
    { tableTo: string; schemaTo?: string; columnsFrom: string[]; columnsTo: string[]; tableFrom: string }
  >
  compositePrimaryKeys?: Record<string, { columns: string[] }>
  uniqueConstraints?: Record<string, { columns: string[] }>
  policies?: Record<string, unknown>
  [key: string]: unknown
}

export function emptySnapshot(): Snapshot {
  return {
    id: '00000000-0000-0000-0000-000000000000',
    prevId: '',
    version: '7',
    dialect: 'postgresql',
    tables: {},
    enums: {},
    schemas: {},
    sequences: {},
    roles: {},
    policies: {},
    views: {},
    _meta: { schemas: {}, tables: {}, columns: {} },
  }
}

/** `meta/0003_snapshot.json` for the journal entry `0003_...`. */
export function snapshotPath(migrationsFolder: string, entry: Pick<JournalEntry, 'idx' | 'tag'>): string {
  const prefix = /^(\d+)_/.exec(entry.tag)?.[1] ?? String(entry.idx).padStart(4, '0')
  return path.join(migrationsFolder, 'meta', `${prefix}_snapshot.json`)
}

/** The journal's entries; none for a service that has no migrations folder yet. */
export function journalEntries(migrationsFolder: string): JournalEntry[] {
  return existsSync(migrationsFolder) ? readJournal(migrationsFolder).entries : []
}

export function readSnapshot(file: string): Snapshot {
  return JSON.parse(readFileSync(file, 'utf8')) as Snapshot
}

export interface SnapshotPair {
  entry: JournalEntry
  /** The models after this migration; null when drizzle-kit didn't write one. */
  current: Snapshot | null
  /** The models before it: the previous entry's snapshot, or empty for the first. */
  previous: Snapshot | null
}

/** Each journal entry with its own snapshot and the one before it. */
export function snapshotPairs(migrationsFolder: string): SnapshotPair[] {
  const entries = journalEntries(migrationsFolder)
  const snapshots = entries.map((entry) => {
    const file = snapshotPath(migrationsFolder, entry)
    return existsSync(file) ? readSnapshot(file) : null
  })
  return entries.map((entry, i) => ({
    entry,
    current: snapshots[i]!,
    previous: i === 0 ? emptySnapshot() : snapshots[i - 1]!,
  }))
}

/** The newest snapshot, i.e. what the models looked like at the last add-migration. */
export function lastSnapshot(migrationsFolder: string): Snapshot | null {
  return snapshotPairs(migrationsFolder).at(-1)?.current ?? null
}

type DrizzleApi = typeof import('drizzle-kit/api')
let api: Promise<DrizzleApi> | undefined
/** drizzle-kit's API is a 3 MB bundle: loaded on first use only. */
export function drizzleKit(): Promise<DrizzleApi> {
  api ??= import('drizzle-kit/api')
  return api
}

const clone = <T>(value: T): T => structuredClone(value)

/** Names that are both added and removed: where generateMigration would ask about renames. */
function isAmbiguous(from: Snapshot, to: Snapshot): boolean {
  const both = (a: Record<string, unknown> = {}, b: Record<string, unknown> = {}) =>
    Object.keys(a).some((k) => !(k in b)) && Object.keys(b).some((k) => !(k in a))
  const kinds = ['schemas', 'enums', 'sequences', 'tables', 'views', 'roles', 'policies'] as const
  if (
    kinds.some((kind) => both(from[kind] as Record<string, unknown>, to[kind] as Record<string, unknown>))
  ) {
    return true
  }
  return Object.entries(from.tables).some(([key, table]) => {
    const other = to.tables[key]
    return other && (both(table.columns, other.columns) || both(table.policies, other.policies))
  })
}

/** `from` plus everything `to` adds (top-level objects, columns and table policies); nothing removed. */
function withAdditions(from: Snapshot, to: Snapshot): Snapshot {
  const middle = clone(from)
  for (const kind of ['schemas', 'enums', 'sequences', 'tables', 'views', 'roles', 'policies'] as const) {
    const target = middle[kind] as Record<string, unknown>
    for (const [key, value] of Object.entries(to[kind] ?? {})) {
      if (!(key in target)) target[key] = clone(value)
    }
  }
  for (const [key, table] of Object.entries(middle.tables)) {
    const other = to.tables[key]
    if (!other || !(key in from.tables)) continue
    for (const [name, column] of Object.entries(other.columns)) {
      if (!(name in table.columns)) table.columns[name] = clone(column)
    }
    table.policies ??= {}
    for (const [name, policy] of Object.entries(other.policies ?? {})) {
      if (!(name in table.policies)) table.policies[name] = clone(policy)
    }
  }
  return middle
}

/**
 * The SQL that turns `from` into `to`, without ever prompting: a disappeared and an
 * appeared name are a drop and a create, never a guessed rename.
 */
export async function diffSnapshots(from: Snapshot, to: Snapshot): Promise<string[]> {
  const { generateMigration } = await drizzleKit()
  type Json = Parameters<typeof generateMigration>[0]
  const diff = (a: Snapshot, b: Snapshot) => generateMigration(a as unknown as Json, b as unknown as Json)
  if (!isAmbiguous(from, to)) return diff(from, to)
  const middle = withAdditions(from, to)
  return [...(await diff(from, middle)), ...(await diff(middle, to))]
}

interface Rename {
  schema: string
  table: string
  from: string
  to: string
}

/** `"s"."t"` -> [s, t]; unqualified keys are in public. */
function qualifiedName(key: string, parts: number): string[] {
  const names = [...key.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]!.replaceAll('""', '"'))
  return names.length === parts ? names : ['public', ...names]
}

/** Renames a forward migration recorded (drizzle-kit asked and the user chose "rename"). */
export function recordedRenames(snapshot: Snapshot): { tables: Rename[]; columns: Rename[] } {
  const tables = Object.entries(snapshot._meta?.tables ?? {}).map(([from, to]) => {
    const [schema, oldName] = qualifiedName(from, 2)
    const [, newName] = qualifiedName(to, 2)
    return { schema: schema!, table: newName!, from: oldName!, to: newName! }
  })
  // drizzle-kit resolves column renames after table renames: both keys carry the new table name.
  const columns = Object.entries(snapshot._meta?.columns ?? {}).map(([from, to]) => {
    const [schema, , oldName] = qualifiedName(from, 3)
    const [, table, newName] = qualifiedName(to, 3)
    return { schema: schema!, table: table!, from: oldName!, to: newName! }
  })
  return { tables, columns }
}

/** Gives a column back its old name in a snapshot, wherever the snapshot refers to it. */
function renameColumn(snapshot: Snapshot, rename: Rename): void {
  const key = `${rename.schema}.${rename.table}`
  const table = snapshot.tables[key]
  const column = table?.columns[rename.to]
  if (!table || !column) return
  const swap = (names: string[]) => names.map((n) => (n === rename.to ? rename.from : n))
  delete table.columns[rename.to]
  table.columns[rename.from] = { ...column, name: rename.from }
  for (const index of Object.values(table.indexes ?? {})) {
    for (const c of index.columns)
      if (!c.isExpression && c.expression === rename.to) c.expression = rename.from
  }
  for (const pk of Object.values(table.compositePrimaryKeys ?? {})) pk.columns = swap(pk.columns)
  for (const unique of Object.values(table.uniqueConstraints ?? {})) unique.columns = swap(unique.columns)
  for (const t of Object.values(snapshot.tables)) {
    for (const fk of Object.values(t.foreignKeys ?? {})) {
      if (t === table) fk.columnsFrom = swap(fk.columnsFrom)
      if (fk.tableTo === rename.table && (fk.schemaTo || 'public') === rename.schema)
        fk.columnsTo = swap(fk.columnsTo)
    }
  }
}

function renameTable(snapshot: Snapshot, rename: Rename): void {
  const table = snapshot.tables[`${rename.schema}.${rename.to}`]
  if (!table) return
  delete snapshot.tables[`${rename.schema}.${rename.to}`]
  snapshot.tables[`${rename.schema}.${rename.from}`] = { ...table, name: rename.from }
  for (const t of Object.values(snapshot.tables)) {
    for (const fk of Object.values(t.foreignKeys ?? {})) {
      if (fk.tableTo === rename.to && (fk.schemaTo || 'public') === rename.schema) fk.tableTo = rename.from
      if (t.name === rename.from && fk.tableFrom === rename.to) fk.tableFrom = rename.from
    }
  }
}

/**
 * The SQL that undoes the migration from `previous` to `current`: renames recorded
 * in `current` are renamed back (keeping the data), everything else is
 * generateMigration(current, previous).
 */
export async function reverseDiff(current: Snapshot, previous: Snapshot): Promise<string[]> {
  const renames = recordedRenames(current)
  const undone = clone(current)
  const statements: string[] = []
  for (const rename of renames.columns) {
    statements.push(
      `ALTER TABLE ${quoteIdent(rename.schema)}.${quoteIdent(rename.table)} RENAME COLUMN ${quoteIdent(rename.to)} TO ${quoteIdent(rename.from)};`,
    )
    renameColumn(undone, rename)
  }
  for (const rename of renames.tables) {
    statements.push(
      `ALTER TABLE ${quoteIdent(rename.schema)}.${quoteIdent(rename.to)} RENAME TO ${quoteIdent(rename.from)};`,
    )
    renameTable(undone, rename)
  }
  undone._meta = { schemas: {}, tables: {}, columns: {} }
  return [...statements, ...(await diffSnapshots(undone, previous))]
}
