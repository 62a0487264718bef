// For a change drizzle-kit generated that is unsafe on a populated table under a
// rolling deploy (a NOT NULL column without a default, SET NOT NULL, a type
// change, a rename), the expand/contract migrations to write instead, with the
// statement's own table and column names (README "Rolling deploys: expand, then
// contract"). add-migration prints them under the finding.
import { quoteIdent } from '../index.js'
import { type AstNode, parseSql, SqlSyntaxError, unwrap } from './sql-parser.js'

interface Target {
  table: string
  /** The table's name alone, for naming a constraint after it. */
  tableName: string
  cmds: { subtype: string; name?: string; column?: AstNode }[]
  rename?: { type: string; from?: string; to: string }
}

/** The table the statement(s) change, with every ALTER TABLE action on it, or its rename. */
function targetOf(statement: string): Target | null {
  let parsed: ReturnType<typeof parseSql>
  try {
    parsed = parseSql(statement)
  } catch (error) {
    if (error instanceof SqlSyntaxError) return null
    throw error
  }
  let target: Target | null = null
  for (const { type, node } of parsed) {
    const relation = node.relation as { schemaname?: string; relname?: string } | undefined
    if (!relation?.relname) continue
    const table = [relation.schemaname, relation.relname]
      .filter((p): p is string => Boolean(p))
      .map(quoteIdent)
      .join('.')
    if (target && target.table !== table) continue
    target ??= { table, tableName: relation.relname, cmds: [] }
    if (type === 'AlterTableStmt') {
      for (const cmd of (node.cmds as unknown[]) ?? []) {
        const f = unwrap(cmd)?.node ?? {}
        target.cmds.push({
          subtype: String(f.subtype),
          name: f.name as string | undefined,
          column: unwrap(f.def)?.node,
        })
      }
    } else if (type === 'RenameStmt') {
      target.rename = {
        type: String(node.renameType),
        from: node.subname as string | undefined,
        to: String(node.newname),
      }
    }
  }
  return target
}

function notNullSteps(table: string, tableName: string, column: string): string[] {
  const check = quoteIdent(`${tableName}_${column}_not_null`.slice(0, 63))
  const col = quoteIdent(column)
  return [
    `  a custom migration:  ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${col} IS NOT NULL) NOT VALID;`,
    `  the next migration:  ALTER TABLE ${table} VALIDATE CONSTRAINT ${check};  (scans without blocking writes)`,
    `                       ALTER TABLE ${table} ALTER COLUMN ${col} SET NOT NULL;  (uses the valid check: no scan)`,
    `                       ALTER TABLE ${table} DROP CONSTRAINT ${check};`,
  ]
}

/** The migrations to write instead of `statement`, line by line; empty when there is no recipe for `rule`. */
export function expandContractSteps(rule: string, statement: string): string[] {
  const target = targetOf(statement)
  if (!target) return []
  const { table, tableName } = target
  switch (rule) {
    case 'adding-required-field': {
      const added = target.cmds.find((c) => c.subtype === 'AT_AddColumn')?.column
      const column = String(added?.colname ?? '<column>')
      const nullable = statement.replace(/\s+NOT\s+NULL\b/i, '').trim()
      return [
        `  release N (expand):   ${nullable}   (the model column without .notNull() for now)`,
        `                        the new code writes ${quoteIdent(column)} on every insert and update; reads tolerate NULL`,
        `                        backfill in a custom migration, in batches on a large table: UPDATE ${table} SET ${quoteIdent(column)} = ... WHERE ${quoteIdent(column)} IS NULL;`,
        '  release N+1 (contract), once no replica of release N-1 runs: .notNull() in the model, and',
        ...notNullSteps(table, tableName, column),
        '  or give it a constant default (.default(...)): ADD COLUMN ... DEFAULT <constant> NOT NULL needs no rewrite on PostgreSQL 11+.',
      ]
    }
    case 'adding-not-nullable-field': {
      const column = target.cmds.find((c) => c.subtype === 'AT_SetNotNull')?.name ?? '<column>'
      return [
        '  once every row has a value (backfilled) and no replica of the previous release writes NULL:',
        ...notNullSteps(table, tableName, column),
      ]
    }
    case 'changing-column-type': {
      const column = target.cmds.find((c) => c.subtype === 'AT_AlterColumnType')?.name ?? '<column>'
      const to =
        /\bTYPE\s+([\s\S]+?)(?:\s+USING\b[\s\S]*)?;?\s*$/i.exec(statement)?.[1]?.trim() ?? '<new type>'
      const next = quoteIdent(`${column}_new`)
      return [
        `  release N (expand):   ALTER TABLE ${table} ADD COLUMN ${next} ${to};`,
        `                        the code writes both ${quoteIdent(column)} and ${next}, reads ${quoteIdent(column)}; backfill ${next} in batches (custom migration)`,
        `  release N+1:          the code reads ${next} (and still writes both)`,
        `  release N+2 (contract): the code stops writing ${quoteIdent(column)}; ALTER TABLE ${table} DROP COLUMN ${quoteIdent(column)}; (waived as a contract step)`,
      ]
    }
    case 'renaming-column':
    case 'rename-as-drop-and-add': {
      const from = quoteIdent(
        target.rename?.from ?? target.cmds.find((c) => c.subtype === 'AT_DropColumn')?.name ?? '<old>',
      )
      const to = quoteIdent(
        target.rename?.to ??
          String(target.cmds.find((c) => c.subtype === 'AT_AddColumn')?.column?.colname ?? '<new>'),
      )
      return [
        `  release N (expand):   ALTER TABLE ${table} ADD COLUMN ${to} <its type>;  (not a rename)`,
        `                        the code writes both ${from} and ${to}, reads ${from}; backfill ${to} in batches (custom migration)`,
        `  release N+1:          the code reads ${to} (and still writes both)`,
        `  release N+2 (contract): the code stops writing ${from}; ALTER TABLE ${table} DROP COLUMN ${from}; (waived as a contract step)`,
      ]
    }
    case 'renaming-table': {
      const schema = table.includes('.') ? `${table.slice(0, table.indexOf('.'))}.` : ''
      const renamed = `${schema}${quoteIdent(target.rename?.to ?? '<new>')}`
      return [
        `  in one migration:     ALTER TABLE ${table} RENAME TO ${quoteIdent(target.rename?.to ?? '<new>')};`,
        `                        CREATE VIEW ${table} AS SELECT * FROM ${renamed};  (a simple view is updatable: the previous release reads and writes through it)`,
        '                        and waive renaming-table on the rename, saying so',
        `  a release later (contract): DROP VIEW ${table};`,
      ]
    }
    default:
      return []
  }
}
