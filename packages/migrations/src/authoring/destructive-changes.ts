// Destructive-change warnings for a new migration, each with the statement that
// triggers it: what `make add-migration` prints before anyone applies the file.
// Reads drizzle-kit's statement forms (and the equivalent hand-written ones); the
// previous snapshot supplies column types and defaults the SQL doesn't repeat.
import type { Snapshot } from './snapshots.js'

export const DestructiveChangeKind = {
  DropTable: 'DROP TABLE',
  DropColumn: 'DROP COLUMN',
  LossyTypeChange: 'TYPE CHANGE',
  NotNullWithoutDefault: 'NOT NULL WITHOUT DEFAULT',
  RenameAsDropAndAdd: 'RENAME AS DROP + ADD',
} as const
export type DestructiveChangeKind = (typeof DestructiveChangeKind)[keyof typeof DestructiveChangeKind]

export interface DestructiveChange {
  kind: DestructiveChangeKind
  message: string
  /** The statement(s) that trigger it. */
  statements: string[]
}

const IDENT = `(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`
const NAME = String.raw`(${IDENT}(?:\s*\.\s*${IDENT})?)`

function unquote(part: string): string {
  return part.startsWith('"') ? part.slice(1, -1).replaceAll('""', '"') : part.toLowerCase()
}

/** `"auth"."users"` -> auth.users; an unqualified name is in the service's schema. */
function tableName(raw: string, schema: string): string {
  const parts = raw.match(new RegExp(IDENT, 'g'))!.map(unquote)
  return parts.length === 2 ? `${parts[0]}.${parts[1]}` : `${schema}.${parts[0]}`
}

interface ColumnAction {
  table: string
  column: string
  statement: string
}

interface TypeChange extends ColumnAction {
  to: string
}

interface AddedColumn extends ColumnAction {
  notNull: boolean
  hasDefault: boolean
}

interface Parsed {
  createdTables: Set<string>
  droppedTables: { table: string; statement: string }[]
  droppedColumns: ColumnAction[]
  addedColumns: AddedColumn[]
  typeChanges: TypeChange[]
  setNotNull: ColumnAction[]
  setDefault: ColumnAction[]
}

function parse(statements: string[], schema: string): Parsed {
  const parsed: Parsed = {
    createdTables: new Set(),
    droppedTables: [],
    droppedColumns: [],
    addedColumns: [],
    typeChanges: [],
    setNotNull: [],
    setDefault: [],
  }
  for (const statement of statements) {
    const sql = statement.replace(/--[^\n]*/g, ' ').trim()
    const created = new RegExp(
      String.raw`^CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?${NAME}`,
      'i',
    ).exec(sql)
    if (created) parsed.createdTables.add(tableName(created[1]!, schema))
    const dropped = new RegExp(
      String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(${NAME.slice(1, -1)}(?:\s*,\s*${NAME.slice(1, -1)})*)`,
      'i',
    ).exec(sql)
    if (dropped) {
      for (const raw of dropped[1]!.split(/\s*,\s*/)) {
        parsed.droppedTables.push({ table: tableName(raw, schema), statement })
      }
    }
    const altered = new RegExp(
      String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?${NAME}\s+([\s\S]*)$`,
      'i',
    ).exec(sql)
    if (!altered) continue
    const table = tableName(altered[1]!, schema)
    // One ALTER TABLE may carry several actions, separated by top-level commas.
    for (const action of splitTopLevel(altered[2]!)) {
      const column = (re: string) => new RegExp(re, 'i').exec(action)
      let m = column(String.raw`^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(${IDENT})`)
      if (m && !/^DROP\s+(CONSTRAINT|DEFAULT|NOT|EXPRESSION|IDENTITY)\b/i.test(action)) {
        parsed.droppedColumns.push({ table, column: unquote(m[1]!), statement })
        continue
      }
      m = column(String.raw`^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(${IDENT})\s+([\s\S]*)$`)
      if (m && !/^ADD\s+(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE)\b/i.test(action)) {
        const definition = m[2]!
        parsed.addedColumns.push({
          table,
          column: unquote(m[1]!),
          statement,
          notNull: /\bNOT\s+NULL\b/i.test(definition) || /\bPRIMARY\s+KEY\b/i.test(definition),
          hasDefault: /\bDEFAULT\b|\bGENERATED\b|\bserial\b|\bbigserial\b|\bsmallserial\b/i.test(definition),
        })
        continue
      }
      m = column(
        String.raw`^ALTER\s+(?:COLUMN\s+)?(${IDENT})\s+(?:SET\s+DATA\s+)?TYPE\s+([\s\S]+?)(?:\s+USING\b[\s\S]*)?;?$`,
      )
      if (m) {
        parsed.typeChanges.push({ table, column: unquote(m[1]!), statement, to: m[2]!.trim() })
        continue
      }
      m = column(String.raw`^ALTER\s+(?:COLUMN\s+)?(${IDENT})\s+SET\s+NOT\s+NULL`)
      if (m) {
        parsed.setNotNull.push({ table, column: unquote(m[1]!), statement })
        continue
      }
      m = column(String.raw`^ALTER\s+(?:COLUMN\s+)?(${IDENT})\s+SET\s+DEFAULT\b`)
      if (m) parsed.setDefault.push({ table, column: unquote(m[1]!), statement })
    }
  }
  return parsed
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quote: string | null = null
  let current = ''
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null
    } else if (ch === '"' || ch === "'") quote = ch
    else if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      parts.push(current.trim())
      current = ''
      continue
    }
    current += ch
  }
  parts.push(current.trim().replace(/;$/, ''))
  return parts.filter(Boolean)
}

interface SqlType {
  base: string
  args: number[]
}

const ALIASES: Record<string, string> = {
  'character varying': 'varchar',
  character: 'char',
  bpchar: 'char',
  int: 'integer',
  int4: 'integer',
  int2: 'smallint',
  int8: 'bigint',
  float8: 'double precision',
  float4: 'real',
  decimal: 'numeric',
  bool: 'boolean',
  'timestamp with time zone': 'timestamptz',
  'timestamp without time zone': 'timestamp',
  'time with time zone': 'timetz',
  'time without time zone': 'time',
}

/** `timestamp (3) with time zone` -> { base: timestamptz, args: [3] }. */
export function parseType(text: string): SqlType {
  const cleaned = text.trim().replace(/;$/, '').replace(/\s+/g, ' ').toLowerCase()
  const args = [...(/\(([^)]*)\)/.exec(cleaned)?.[1] ?? '').matchAll(/\d+/g)].map((m) => Number(m[0]))
  const base = cleaned.replace(/\s*\([^)]*\)\s*/, ' ').trim()
  return { base: ALIASES[base] ?? base, args }
}

const INTEGER_WIDTH: Record<string, number> = { smallint: 2, integer: 4, bigint: 8 }

/** True when every value of `from` converts to `to` unchanged. */
export function isWidening(from: SqlType, to: SqlType): boolean {
  if (to.base === 'text') return true
  const sameBase = from.base === to.base
  if (sameBase && ['varchar', 'char', 'bit varying', 'varbit'].includes(from.base)) {
    return to.args.length === 0 || (from.args.length > 0 && to.args[0]! >= from.args[0]!)
  }
  if (from.base === 'varchar' && to.base === 'varchar') return true
  if (['varchar', 'char'].includes(from.base) && to.base === 'varchar' && to.args.length === 0) return true
  if (from.base in INTEGER_WIDTH && to.base in INTEGER_WIDTH) {
    return INTEGER_WIDTH[to.base]! >= INTEGER_WIDTH[from.base]!
  }
  if (from.base in INTEGER_WIDTH && to.base === 'numeric') {
    return to.args.length === 0 || to.args[0]! - (to.args[1] ?? 0) >= 19
  }
  if (from.base === 'real' && to.base === 'double precision') return true
  if (sameBase && from.base === 'numeric') {
    if (to.args.length === 0) return true
    if (from.args.length === 0) return false
    const [p1, s1 = 0] = from.args
    const [p2, s2 = 0] = to.args
    return s2 >= s1 && p2! - s2 >= p1! - s1
  }
  if (sameBase && ['timestamp', 'timestamptz', 'time', 'timetz', 'interval'].includes(from.base)) {
    return to.args.length === 0 || (from.args.length > 0 && to.args[0]! >= from.args[0]!)
  }
  return false
}

function previousColumn(previous: Snapshot | null, table: string, column: string) {
  return previous?.tables[table]?.columns[column] as { type?: string; default?: unknown } | undefined
}

/** The destructive changes in a migration's statements, in statement order. */
export function destructiveChanges(
  statements: string[],
  options: { schema: string; previous?: Snapshot | null },
): DestructiveChange[] {
  const { schema } = options
  const previous = options.previous ?? null
  const parsed = parse(statements, schema)
  const changes: DestructiveChange[] = []

  for (const { table, statement } of parsed.droppedTables) {
    changes.push({
      kind: DestructiveChangeKind.DropTable,
      message: `drops table ${table} and every row in it`,
      statements: [statement],
    })
  }
  for (const { table, column, statement } of parsed.droppedColumns) {
    changes.push({
      kind: DestructiveChangeKind.DropColumn,
      message: `drops column ${table}.${column} and its data`,
      statements: [statement],
    })
  }
  for (const change of parsed.typeChanges) {
    const before = previousColumn(previous, change.table, change.column)?.type
    const from = before ? parseType(before) : null
    const to = parseType(change.to.replace(/^"[^"]*"\./, ''))
    if (from && isWidening(from, to)) continue
    changes.push({
      kind: DestructiveChangeKind.LossyTypeChange,
      message: before
        ? `changes ${change.table}.${change.column} from ${before} to ${change.to}: values that don't fit are cut, rounded or make the migration fail`
        : `changes the type of ${change.table}.${change.column} to ${change.to} (previous type unknown): values that don't fit are cut, rounded or make the migration fail`,
      statements: [change.statement],
    })
  }
  const defaulted = new Set(parsed.setDefault.map((d) => `${d.table}.${d.column}`))
  for (const { table, column, statement } of parsed.setNotNull) {
    if (parsed.createdTables.has(table)) continue
    const key = `${table}.${column}`
    const added = parsed.addedColumns.find((a) => a.table === table && a.column === column)
    const hadDefault = previousColumn(previous, table, column)?.default !== undefined
    if (defaulted.has(key) || hadDefault || added?.hasDefault) continue
    changes.push({
      kind: DestructiveChangeKind.NotNullWithoutDefault,
      message: `makes ${key} NOT NULL on an existing table without a default: fails if any row holds NULL (backfill it first, or give it a default)`,
      statements: [statement],
    })
  }
  for (const added of parsed.addedColumns) {
    if (!added.notNull || added.hasDefault || parsed.createdTables.has(added.table)) continue
    changes.push({
      kind: DestructiveChangeKind.NotNullWithoutDefault,
      message: `adds NOT NULL column ${added.table}.${added.column} to an existing table without a default: fails as soon as the table has a row`,
      statements: [added.statement],
    })
  }
  // A renamed column that came out as a drop and an add loses its data.
  const tables = new Set(parsed.droppedColumns.map((d) => d.table))
  for (const table of tables) {
    const dropped = parsed.droppedColumns.filter((d) => d.table === table)
    const added = parsed.addedColumns.filter((a) => a.table === table)
    if (added.length === 0) continue
    changes.push({
      kind: DestructiveChangeKind.RenameAsDropAndAdd,
      message: `${table} drops ${dropped.map((d) => d.column).join(', ')} and adds ${added.map((a) => a.column).join(', ')}: if that is a rename, the data is lost. Run add-migration in a terminal and answer drizzle-kit's prompt with "rename", or edit it to ALTER TABLE ... RENAME COLUMN`,
      statements: [...dropped, ...added].map((c) => c.statement),
    })
  }
  const droppedTables = parsed.droppedTables.filter((d) => !parsed.createdTables.has(d.table))
  const newTables = [...parsed.createdTables].filter((t) => !parsed.droppedTables.some((d) => d.table === t))
  if (droppedTables.length > 0 && newTables.length > 0) {
    changes.push({
      kind: DestructiveChangeKind.RenameAsDropAndAdd,
      message: `drops table ${droppedTables.map((d) => d.table).join(', ')} and creates ${newTables.join(', ')}: if that is a rename, every row is lost. Answer drizzle-kit's prompt with "rename", or edit it to ALTER TABLE ... RENAME TO`,
      statements: droppedTables.map((d) => d.statement),
    })
  }
  return changes
}

/** The warning block add-migration prints, meant to be impossible to miss. */
export function formatDestructiveChanges(file: string, changes: DestructiveChange[]): string[] {
  if (changes.length === 0) return []
  const rule = '!'.repeat(78)
  return [
    rule,
    `!! WARNING: ${changes.length} destructive change(s) in ${file}`,
    ...changes.flatMap((change) => [
      `!!`,
      `!! ${change.kind}: ${change.message}`,
      ...[...new Set(change.statements)].flatMap((s) =>
        s
          .trim()
          .split('\n')
          .map((line) => `!!     ${line}`),
      ),
    ]),
    rule,
  ]
}
