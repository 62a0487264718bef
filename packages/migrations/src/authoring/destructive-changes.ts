// What squawk cannot tell from one file, read from PostgreSQL's parse tree and the
// previous snapshot: a rename that drizzle-kit wrote as a drop plus an add (squawk
// sees only the drop: the data is lost), and whether a type change is a widening
// PostgreSQL does without rewriting the table (varchar(n) to varchar(m >= n) or
// text, numeric with more precision and the same scale): squawk's
// changing-column-type is then a warning, not an error. Every other destructive
// change is squawk's (ban-drop-table, ban-drop-column, changing-column-type,
// adding-required-field, adding-not-nullable-field).
import type { Snapshot } from './snapshots.js'
import { type AstNode, parseSql, SqlSyntaxError, strings, unwrap } from './sql-parser.js'

export interface RenameAsDropAndAdd {
  message: string
  /** The statements that drop and add. */
  statements: string[]
}

interface Parsed {
  statement: string
  type: string
  node: AstNode
}

function parsedStatements(statements: string[]): Parsed[] {
  return statements.flatMap((statement) => {
    try {
      return parseSql(statement).map(({ type, node }) => ({ statement, type, node }))
    } catch (error) {
      if (error instanceof SqlSyntaxError) return []
      throw error
    }
  })
}

function tableKey(relation: unknown, schema: string): string | null {
  const r = relation as { schemaname?: string; relname?: string } | undefined
  return r?.relname ? `${r.schemaname ?? schema}.${r.relname}` : null
}

function alterCommands(node: AstNode): AstNode[] {
  return ((node.cmds as unknown[]) ?? []).map((cmd) => unwrap(cmd)?.node ?? {})
}

/** Renames that came out as a drop and an add, of columns or of tables. */
export function renamesAsDropAndAdd(statements: string[], schema: string): RenameAsDropAndAdd[] {
  const parsed = parsedStatements(statements)
  const created = new Map<string, string>()
  const droppedTables = new Map<string, string>()
  const columns = new Map<string, { dropped: [string, string][]; added: [string, string][] }>()
  const columnsOf = (table: string) => {
    if (!columns.has(table)) columns.set(table, { dropped: [], added: [] })
    return columns.get(table)!
  }
  for (const { statement, type, node } of parsed) {
    if (type === 'CreateStmt') {
      const table = tableKey(node.relation, schema)
      if (table) created.set(table, statement)
    } else if (type === 'DropStmt' && node.removeType === 'OBJECT_TABLE') {
      for (const item of (node.objects as unknown[]) ?? []) {
        const parts = strings(unwrap(item)?.node.items)
        const table = parts.length > 1 ? parts.slice(-2).join('.') : `${schema}.${parts[0]}`
        droppedTables.set(table, statement)
      }
    } else if (type === 'AlterTableStmt') {
      const table = tableKey(node.relation, schema)
      if (!table) continue
      for (const cmd of alterCommands(node)) {
        if (cmd.subtype === 'AT_DropColumn') columnsOf(table).dropped.push([String(cmd.name), statement])
        if (cmd.subtype === 'AT_AddColumn') {
          columnsOf(table).added.push([String(unwrap(cmd.def)?.node.colname), statement])
        }
      }
    }
  }
  const found: RenameAsDropAndAdd[] = []
  for (const [table, { dropped, added }] of columns) {
    if (dropped.length === 0 || added.length === 0 || created.has(table)) continue
    found.push({
      message: `${table} drops ${dropped.map(([c]) => c).join(', ')} and adds ${added.map(([c]) => c).join(', ')}: if that is a rename, the data is lost. Run add-migration in a terminal and answer drizzle-kit's prompt with "rename" (then expand/contract it, as renaming-column says), or keep both columns for a release`,
      statements: [...new Set([...dropped, ...added].map(([, s]) => s))],
    })
  }
  const gone = [...droppedTables].filter(([t]) => !created.has(t))
  const fresh = [...created].filter(([t]) => !droppedTables.has(t))
  if (gone.length > 0 && fresh.length > 0) {
    found.push({
      message: `drops table ${gone.map(([t]) => t).join(', ')} and creates ${fresh.map(([t]) => t).join(', ')}: if that is a rename, every row is lost. Answer drizzle-kit's prompt with "rename" (then keep the old name as a view for a release, as renaming-table says)`,
      statements: gone.map(([, s]) => s),
    })
  }
  return found
}

export interface SqlType {
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
  'bit varying': 'varbit',
  'timestamp with time zone': 'timestamptz',
  'timestamp without time zone': 'timestamp',
}

/** `timestamp (3) with time zone` -> { base: timestamptz, args: [3] }; drizzle-kit's snapshot spelling. */
export function parseType(text: string): SqlType {
  const cleaned = text.trim().replace(/;$/, '').replace(/\s+/g, ' ').toLowerCase()
  const args = [...(/\(([^)]*)\)/.exec(cleaned)?.[1] ?? '').matchAll(/\d+/g)].map((m) => Number(m[0]))
  const base = cleaned.replace(/\s*\([^)]*\)\s*/, ' ').trim()
  return { base: ALIASES[base] ?? base, args }
}

/** True when PostgreSQL changes `from` to `to` without rewriting or scanning the table. */
export function changesWithoutRewrite(from: SqlType, to: SqlType): boolean {
  const wider = () => to.args.length === 0 || (from.args.length > 0 && to.args[0]! >= from.args[0]!)
  if (['varchar', 'text'].includes(from.base) && to.base === 'text') return true
  if (from.base === 'varchar' && to.base === 'varchar') return wider()
  if (from.base === 'text' && to.base === 'varchar') return to.args.length === 0
  if (from.base === 'varbit' && to.base === 'varbit') return wider()
  if (from.base === 'numeric' && to.base === 'numeric') {
    if (to.args.length === 0) return true
    if (from.args.length === 0) return false
    return (to.args[1] ?? 0) === (from.args[1] ?? 0) && to.args[0]! >= from.args[0]!
  }
  return false
}

/**
 * For an ALTER TABLE whose every action is a type change PostgreSQL does without a
 * rewrite (the previous types from the snapshot): a description of each change.
 * Null when any action rewrites, or a previous type is unknown.
 */
export function typeChangesWithoutRewrite(
  statement: string,
  options: { schema: string; previous: Snapshot | null },
): string[] | null {
  const [parsed] = parsedStatements([statement])
  if (parsed?.type !== 'AlterTableStmt') return null
  const table = tableKey(parsed.node.relation, options.schema)
  const commands = alterCommands(parsed.node)
  if (!table || commands.length === 0) return null
  const changes: string[] = []
  for (const cmd of commands) {
    if (cmd.subtype !== 'AT_AlterColumnType') return null
    const column = String(cmd.name)
    const before = (options.previous?.tables[table]?.columns[column] as { type?: string } | undefined)?.type
    const typeName = unwrap(cmd.def)?.node.typeName as AstNode | undefined
    const name = strings(typeName?.names).at(-1)
    if (!before || !name) return null
    const args = ((typeName?.typmods as unknown[]) ?? []).map((m) =>
      Number((unwrap(m)?.node.ival as { ival?: number } | undefined)?.ival ?? 0),
    )
    const to = { base: ALIASES[name] ?? name, args }
    if (!changesWithoutRewrite(parseType(before), to)) return null
    changes.push(`${table}.${column} from ${before} to ${name}${args.length ? `(${args.join(', ')})` : ''}`)
  }
  return changes
}
