// PostgreSQL's own parser for the authoring lints: libpg-query (the server's
// grammar compiled to WebAssembly; PostgreSQL 18's, which reads the 17 this project
// runs), loaded once when this module is first imported, so parsing is synchronous
// afterwards. Tooling only: nothing the runtime index exports reaches this module.
import { loadModule, parsePlPgSQLSync, parseSync } from 'libpg-query'

await loadModule()

/** A parse-tree node as libpg-query gives it: `{ TypeName: { ... } }`, or a bare struct. */
export type AstNode = Record<string, unknown>

export interface ParsedStatement {
  /** The node's type, e.g. `IndexStmt`. */
  type: string
  /** Its fields. */
  node: AstNode
  /** This statement's own text, out of what was parsed. */
  text: string
}

export class SqlSyntaxError extends Error {
  override name = 'SqlSyntaxError'
}

/**
 * libpg-query reports byte offsets into the UTF-8 text; JavaScript strings count
 * UTF-16 units, so slices go through a Buffer.
 */
function sliceBytes(bytes: Buffer, start: number, length: number | undefined): string {
  return bytes.subarray(start, length === undefined || length === 0 ? undefined : start + length).toString()
}

/** Every statement in `sql`, with its text. Throws SqlSyntaxError naming where it stopped. */
export function parseSql(sql: string): ParsedStatement[] {
  let tree: { stmts?: { stmt: AstNode; stmt_location?: number; stmt_len?: number }[] }
  try {
    tree = parseSync(sql) as typeof tree
  } catch (error) {
    const position = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition
    const near =
      position === undefined ? '' : ` near "${sql.slice(Math.max(0, position - 1), position + 30).trim()}"`
    throw new SqlSyntaxError(`${(error as Error).message}${near}`)
  }
  const bytes = Buffer.from(sql)
  return (tree.stmts ?? []).map(({ stmt, stmt_location, stmt_len }) => {
    const [type, node] = Object.entries(stmt)[0]!
    return { type, node: node as AstNode, text: sliceBytes(bytes, stmt_location ?? 0, stmt_len).trim() }
  })
}

/** The PL/pgSQL parse tree of one `CREATE FUNCTION ... LANGUAGE plpgsql` statement. */
export function parsePlpgsqlFunction(createFunction: string): unknown {
  try {
    return parsePlPgSQLSync(createFunction)
  } catch (error) {
    throw new SqlSyntaxError((error as Error).message)
  }
}

/** `{ String: { sval } }` nodes (a qualified name's parts) as plain strings. */
export function strings(list: unknown): string[] {
  if (!Array.isArray(list)) return []
  return list.flatMap((item) => {
    const value = (item as { String?: { sval?: string } }).String?.sval
    return value === undefined ? [] : [value]
  })
}

/** The one `{ Type: fields }` pair of a wrapped node, or null for anything else. */
export function unwrap(value: unknown): { type: string; node: AstNode } | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null
  const keys = Object.keys(value)
  if (keys.length !== 1 || !/^[A-Z]/.test(keys[0]!)) return null
  const node = (value as AstNode)[keys[0]!]
  return node && typeof node === 'object' ? { type: keys[0]!, node: node as AstNode } : null
}
