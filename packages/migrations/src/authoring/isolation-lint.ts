// The isolation lint: a service's migrations (and their downs) may only name the
// service's own schema. Roles already make a cross-schema statement fail with
// "permission denied" at apply time; this catches it when the file is written
// (add-migration) and in CI (check), with the offending statement.
//
// It reads PostgreSQL's own parse tree (sql-parser.ts), not tokens: every
// schema-qualified relation, sequence, function, type, collation, operator class
// and object a DROP/COMMENT/ALTER names; names hidden in strings (`'billing.t'::
// regclass`, `nextval('billing.s')`); schema statements (CREATE/DROP/ALTER SCHEMA,
// GRANT ... ON SCHEMA, ... IN SCHEMA, SET SCHEMA, CREATE EXTENSION ... SCHEMA);
// SET/RESET search_path and SET ROLE, also inside a function's SET clause and
// through set_config(). Function bodies and DO blocks are parsed too: LANGUAGE sql
// as SQL, PL/pgSQL through its own parser, each embedded query and expression as
// SQL. What the lint cannot see is a warning, not a pass: EXECUTE of a query built
// at run time, a body in another language.
//
// Allowed besides the own schema: pg_catalog, information_schema and pg_temp.
import { LEDGER_TABLE } from '../index.js'
import {
  type AstNode,
  type ParsedStatement,
  parsePlpgsqlFunction,
  parseSql,
  SqlSyntaxError,
  strings,
  unwrap,
} from './sql-parser.js'

export type IsolationRule =
  | 'other-schema'
  | 'search-path'
  | 'set-role'
  | 'schema-statement'
  | 'own-schema-dropped'
  | 'ledger'
  | 'syntax'
  | 'unverifiable'

export interface IsolationViolation {
  rule: IsolationRule
  /** A warning is what the lint cannot check (dynamic SQL): printed, not refused. */
  severity: 'error' | 'warning'
  message: string
  statement: string
}

export interface IsolationOptions {
  /** The service's own schema: the only one its SQL may name. */
  schema: string
  /** Other services' schemas, named as such in messages (`public` always counts). */
  forbiddenSchemas?: string[]
}

const SYSTEM_SCHEMA = /^(pg_catalog|information_schema|pg_temp(_\d+)?|pg_toast)$/

/** Schemas a search_path may list without leaving the service's own schema. */
const HARMLESS_PATH = new Set(['pg_catalog', 'pg_temp'])

/** Objects named by a list whose last part is a member of a table, not the table. */
const TABLE_MEMBERS = new Set([
  'OBJECT_COLUMN',
  'OBJECT_TRIGGER',
  'OBJECT_POLICY',
  'OBJECT_RULE',
  'OBJECT_TABCONSTRAINT',
])

function kindOf(objectType: unknown): string {
  switch (objectType) {
    case 'OBJECT_SEQUENCE':
      return 'sequence'
    case 'OBJECT_TYPE':
    case 'OBJECT_DOMAIN':
      return 'type'
    case 'OBJECT_FUNCTION':
    case 'OBJECT_PROCEDURE':
    case 'OBJECT_ROUTINE':
    case 'OBJECT_AGGREGATE':
      return 'function'
    case 'OBJECT_TABLE':
    case 'OBJECT_INDEX':
    case 'OBJECT_VIEW':
    case 'OBJECT_MATVIEW':
    case 'OBJECT_FOREIGN_TABLE':
    case 'OBJECT_COLUMN':
    case 'OBJECT_TRIGGER':
    case 'OBJECT_POLICY':
    case 'OBJECT_RULE':
    case 'OBJECT_TABCONSTRAINT':
      return 'relation'
    default:
      return 'object'
  }
}

/** Functions whose first argument is an object's name in a string: what it names. */
const NAME_ARGUMENT: Record<string, string> = {
  nextval: 'sequence',
  currval: 'sequence',
  setval: 'sequence',
  pg_get_serial_sequence: 'relation',
  to_regclass: 'relation',
  to_regtype: 'type',
  to_regproc: 'function',
  to_regprocedure: 'function',
  to_regnamespace: 'schema',
}

/** Casts of a string to these types resolve it as an object's name. */
const NAME_TYPES: Record<string, string> = {
  regclass: 'relation',
  regtype: 'type',
  regproc: 'function',
  regprocedure: 'function',
  regoper: 'operator',
  regoperator: 'operator',
  regcollation: 'collation',
  regconfig: 'object',
  regdictionary: 'object',
  regnamespace: 'schema',
}

/** `'Billing.plans'` as PostgreSQL resolves it: unquoted parts lower-cased, `(args)` dropped. */
function nameInString(text: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        current += '"'
        i++
      } else if (ch === '"') quoted = false
      else current += ch
    } else if (ch === '"') quoted = true
    else if (ch === '.') {
      parts.push(current)
      current = ''
    } else if (ch === '(') break
    else current += ch.toLowerCase()
  }
  parts.push(current.trim())
  return parts.map((p) => p.trim())
}

function stringConstant(value: unknown): string | null {
  const constant = unwrap(value)
  if (constant?.type !== 'A_Const') return null
  const sval = (constant.node.sval as { sval?: string } | undefined)?.sval
  return typeof sval === 'string' ? sval : null
}

function defElems(options: unknown): Map<string, unknown> {
  const found = new Map<string, unknown>()
  if (!Array.isArray(options)) return found
  for (const option of options) {
    const element = unwrap(option)
    if (element?.type === 'DefElem') found.set(String(element.node.defname), element.node.arg)
  }
  return found
}

/** A dollar-quote tag that does not occur in `body`. */
function dollarQuote(body: string): string {
  for (let n = 0; ; n++) {
    const tag = `$lint${n || ''}$`
    if (!body.includes(tag)) return tag
  }
}

class StatementLint {
  readonly violations: IsolationViolation[] = []
  /** The SQL statement being visited, out of the chunk between breakpoints (PL/pgSQL is parsed from it). */
  current = ''
  private readonly forbidden: Set<string>

  constructor(
    private readonly own: string,
    forbiddenSchemas: string[],
    private readonly statement: string,
  ) {
    this.forbidden = new Set(['public', ...forbiddenSchemas].filter((s) => s !== own))
  }

  add(rule: IsolationRule, message: string, severity: IsolationViolation['severity'] = 'error'): void {
    if (this.violations.some((v) => v.message === message)) return
    this.violations.push({ rule, severity, message, statement: this.statement })
  }

  /** A schema named on its own (to_regnamespace, SCHEMA clauses). */
  schemaName(schema: string, shown: string): void {
    if (schema === this.own || SYSTEM_SCHEMA.test(schema)) return
    const whose = this.forbidden.has(schema) && schema !== 'public' ? ", another service's schema" : ''
    this.add('other-schema', `names schema "${schema}" (${shown}${whose})`)
  }

  /** A possibly qualified name, [catalog, schema, name] or shorter. */
  name(kind: string, parts: string[]): void {
    if (parts.length === 0) return
    if (parts.at(-1) === LEDGER_TABLE) {
      this.add('ledger', `touches the migration ledger ${LEDGER_TABLE}, which belongs to the runner`)
    }
    if (parts.length >= 2) this.schemaName(parts.at(-2)!, `${kind} ${parts.slice(-2).join('.')}`)
  }

  /** A schema a statement creates, alters, grants on or moves objects to. */
  schemaStatement(schema: string, what: string): void {
    if (schema !== this.own) this.add('schema-statement', what)
  }

  searchPath(values: string[], how: string): void {
    const outside = values.filter((v) => v !== this.own && !HARMLESS_PATH.has(v))
    if (values.length === 0 || outside.length > 0) {
      this.add('search-path', `${how} search_path to ${values.join(', ') || '(unknown)'}`)
    }
  }

  /** Objects of DROP / COMMENT ON / ALTER ... OWNER and the like, by their object type. */
  objects(objectType: unknown, items: unknown[]): void {
    for (const item of items) {
      const list = unwrap(item)
      if (list?.type !== 'List') continue
      const parts = strings(list.node.items)
      this.name(kindOf(objectType), TABLE_MEMBERS.has(String(objectType)) ? parts.slice(0, -1) : parts)
    }
  }

  visit(value: unknown, key?: string): void {
    if (Array.isArray(value)) {
      for (const item of value) this.visit(item, key)
      return
    }
    if (!value || typeof value !== 'object') return
    const wrapped = unwrap(value)
    if (wrapped) {
      this.node(wrapped.type, wrapped.node, key)
      return
    }
    // Fields typed as one struct come unwrapped: recognise the two that name things.
    const fields = value as AstNode
    if (typeof fields.relname === 'string') this.node('RangeVar', fields, key)
    else if (Array.isArray(fields.names) && 'typemod' in fields) this.node('TypeName', fields, key)
    else for (const [k, v] of Object.entries(fields)) this.visit(v, k)
  }

  private node(type: string, f: AstNode, key?: string): void {
    this.check(type, f, key)
    for (const [k, v] of Object.entries(f)) this.visit(v, k)
  }

  private check(type: string, f: AstNode, key?: string): void {
    switch (type) {
      case 'RangeVar':
        this.name(
          key === 'sequence' ? 'sequence' : 'relation',
          [f.catalogname, f.schemaname, f.relname].filter((p): p is string => typeof p === 'string'),
        )
        return
      case 'TypeName': {
        const parts = strings(f.names)
        // `tbl.col%TYPE` names a column: its table is the qualified part.
        this.name(f.pct_type ? 'relation' : 'type', f.pct_type ? parts.slice(0, -1) : parts)
        return
      }
      case 'TypeCast': {
        const target = strings((f.typeName as AstNode | undefined)?.names).at(-1)
        const text = stringConstant(f.arg)
        if (target && text !== null && target in NAME_TYPES) this.nameFromString(NAME_TYPES[target]!, text)
        return
      }
      case 'FuncCall':
        this.functionCall(strings(f.funcname), Array.isArray(f.args) ? f.args : [])
        return
      case 'ObjectWithArgs':
        this.name('function', strings(f.objname))
        return
      case 'CreateFunctionStmt':
        this.name('function', strings(f.funcname))
        this.functionBody(f)
        return
      case 'CreateTrigStmt':
        this.name('function', strings(f.funcname))
        return
      case 'CreateEnumStmt':
      case 'AlterEnumStmt':
        this.name('type', strings(f.typeName))
        return
      case 'CreateDomainStmt':
        this.name('type', strings(f.domainname))
        return
      case 'DefineStmt':
      case 'CreateStatsStmt':
        this.name('object', strings(f.defnames))
        return
      case 'CollateClause':
        this.name('collation', strings(f.collname))
        return
      case 'IndexElem':
        this.name('operator class', strings(f.opclass))
        return
      case 'CreateSchemaStmt':
        if (typeof f.schemaname !== 'string') {
          this.add('schema-statement', 'creates a schema named after a role (CREATE SCHEMA AUTHORIZATION)')
        } else this.schemaStatement(f.schemaname, `CREATE SCHEMA "${f.schemaname}"`)
        return
      case 'DropStmt':
        this.drop(f)
        return
      case 'CommentStmt':
      case 'SecLabelStmt':
        this.objects(f.objtype, [f.object])
        if (f.objtype === 'OBJECT_SCHEMA') {
          const schema = unwrap(f.object)?.node.sval
          if (typeof schema === 'string') this.schemaStatement(schema, `COMMENT ON SCHEMA "${schema}"`)
        }
        return
      case 'RenameStmt':
        if (f.renameType === 'OBJECT_SCHEMA') {
          const schema = String(f.subname)
          this.add(
            'schema-statement',
            schema === this.own
              ? `renames the service's own schema "${schema}"`
              : `ALTER SCHEMA "${schema}" RENAME`,
          )
        } else this.objects(f.renameType, [f.object])
        return
      case 'AlterObjectSchemaStmt':
        this.objects(f.objectType, [f.object])
        this.schemaStatement(
          String(f.newschema),
          `moves an object to schema "${f.newschema}" (SET SCHEMA ${f.newschema})`,
        )
        return
      case 'AlterOwnerStmt':
      case 'AlterObjectDependsStmt':
        if (f.objectType === 'OBJECT_SCHEMA') {
          const schema = unwrap(f.object)?.node.sval
          if (typeof schema === 'string') this.schemaStatement(schema, `ALTER SCHEMA "${schema}"`)
        } else this.objects(f.objectType, [f.object])
        return
      case 'GrantStmt':
        this.grant(f)
        return
      case 'AlterDefaultPrivilegesStmt': {
        const schemas = strings(unwrap(defElems(f.options).get('schemas'))?.node.items)
        for (const schema of schemas) {
          this.schemaStatement(schema, `ALTER DEFAULT PRIVILEGES IN SCHEMA "${schema}"`)
        }
        return
      }
      case 'CreateExtensionStmt':
      case 'AlterExtensionStmt': {
        const schema = unwrap(defElems(f.options).get('schema'))?.node.sval
        if (typeof schema === 'string') {
          this.schemaStatement(schema, `puts an object in schema "${schema}" (SCHEMA ${schema})`)
        }
        return
      }
      case 'VariableSetStmt':
        this.variableSet(f)
        return
      case 'DoStmt':
        this.doBlock(f)
        return
    }
  }

  private nameFromString(kind: string, text: string): void {
    const parts = nameInString(text)
    if (kind === 'schema') this.schemaName(parts.at(-1)!, `'${text}'`)
    else this.name(kind, parts)
  }

  private functionCall(name: string[], args: unknown[]): void {
    this.name('function', name)
    const called = name.at(-1)?.toLowerCase() ?? ''
    const first = stringConstant(args[0])
    if (first === null) return
    if (called in NAME_ARGUMENT) this.nameFromString(NAME_ARGUMENT[called]!, first)
    if (called === 'set_config') {
      const setting = first.toLowerCase()
      const value = stringConstant(args[1])
      if (setting === 'search_path') {
        this.searchPath(
          value === null ? [] : value.split(',').map((v) => nameInString(v.trim()).join('.')),
          "sets (set_config('search_path', ...))",
        )
      } else if (setting === 'role' || setting === 'session_authorization') {
        this.add(
          'set-role',
          `switches role (set_config('${setting}', ...)): a migration runs as the schema's owner`,
        )
      }
    }
  }

  private drop(f: AstNode): void {
    const objects = Array.isArray(f.objects) ? f.objects : []
    if (f.removeType !== 'OBJECT_SCHEMA') {
      this.objects(f.removeType, objects)
      return
    }
    for (const item of objects) {
      const schema = unwrap(item)?.node.sval
      if (typeof schema !== 'string') continue
      if (schema === this.own) this.add('own-schema-dropped', `drops the service's own schema "${schema}"`)
      else this.add('schema-statement', `DROP SCHEMA "${schema}"`)
    }
  }

  private grant(f: AstNode): void {
    const objects = Array.isArray(f.objects) ? f.objects : []
    const verb = f.is_grant ? 'GRANT' : 'REVOKE'
    if (f.targtype === 'ACL_TARGET_ALL_IN_SCHEMA' || f.objtype === 'OBJECT_SCHEMA') {
      const where = f.targtype === 'ACL_TARGET_ALL_IN_SCHEMA' ? 'ALL ... IN SCHEMA' : 'ON SCHEMA'
      for (const item of objects) {
        const schema = unwrap(item)?.node.sval
        if (typeof schema === 'string') this.schemaStatement(schema, `${verb} ... ${where} "${schema}"`)
      }
      return
    }
    this.objects(f.objtype, objects)
  }

  private variableSet(f: AstNode): void {
    const name = typeof f.name === 'string' ? f.name.toLowerCase() : null
    if (f.kind === 'VAR_RESET_ALL') {
      this.add('search-path', "RESET ALL: puts search_path back to the role's default, which names public")
      return
    }
    if (name === 'search_path') {
      if (f.kind === 'VAR_SET_VALUE') {
        const values = (Array.isArray(f.args) ? f.args : []).map((arg) => stringConstant(arg) ?? '?')
        this.searchPath(values, 'sets')
      } else {
        this.add('search-path', "resets search_path to the role's default, which names public")
      }
    } else if ((name === 'role' || name === 'session_authorization') && f.kind === 'VAR_SET_VALUE') {
      const to = stringConstant((f.args as unknown[] | undefined)?.[0]) ?? '?'
      this.add(
        'set-role',
        `SET ${name === 'role' ? 'ROLE' : 'SESSION AUTHORIZATION'} ${to}: a migration runs as the schema's owner`,
      )
    }
  }

  private functionBody(f: AstNode): void {
    const options = defElems(f.options)
    const language = String(unwrap(options.get('language'))?.node.sval ?? 'sql').toLowerCase()
    const as = strings(unwrap(options.get('as'))?.node.items)
    // A SQL-standard body (BEGIN ATOMIC ... END, RETURN ...) is in the tree already.
    if (as.length === 0) return
    if (language === 'sql') this.sqlBody(as[0]!, 'function body')
    else if (language === 'plpgsql') this.plpgsql(this.current, 'function body')
    else {
      this.add(
        'unverifiable',
        `function ${strings(f.funcname).join('.')} is written in LANGUAGE ${language}: the lint cannot see what it names`,
        'warning',
      )
    }
  }

  private doBlock(f: AstNode): void {
    const options = defElems(f.args)
    const body = unwrap(options.get('as'))?.node.sval
    const language = String(unwrap(options.get('language'))?.node.sval ?? 'plpgsql').toLowerCase()
    if (typeof body !== 'string') return
    if (language !== 'plpgsql') {
      this.add(
        'unverifiable',
        `DO block in LANGUAGE ${language}: the lint cannot see what it names`,
        'warning',
      )
      return
    }
    const quote = dollarQuote(body)
    this.plpgsql(
      `CREATE FUNCTION pg_temp.lint_do_block() RETURNS void LANGUAGE plpgsql AS ${quote}${body}${quote}`,
      'DO block',
    )
  }

  private sqlBody(sql: string, where: string): void {
    try {
      for (const statement of parseSql(sql)) this.node(statement.type, statement.node)
    } catch (error) {
      if (!(error instanceof SqlSyntaxError)) throw error
      this.add(
        'unverifiable',
        `${where} does not parse as SQL (${error.message}): the lint cannot check it`,
        'warning',
      )
    }
  }

  private plpgsql(createFunction: string, where: string): void {
    let tree: unknown
    try {
      tree = parsePlpgsqlFunction(createFunction)
    } catch (error) {
      if (!(error instanceof SqlSyntaxError)) throw error
      this.add(
        'unverifiable',
        `${where} does not parse as PL/pgSQL (${error.message}): the lint cannot check it`,
        'warning',
      )
      return
    }
    this.plpgsqlNode(tree, where)
  }

  private plpgsqlNode(value: unknown, where: string): void {
    if (Array.isArray(value)) {
      for (const item of value) this.plpgsqlNode(item, where)
      return
    }
    if (!value || typeof value !== 'object') return
    for (const [key, field] of Object.entries(value as AstNode)) {
      if (key === 'PLpgSQL_expr') this.plpgsqlExpression(field as AstNode, where)
      else if (key === 'PLpgSQL_type') this.plpgsqlType(String((field as AstNode).typname ?? ''))
      else if (key === 'PLpgSQL_stmt_dynexecute' || key === 'PLpgSQL_stmt_dynfors') {
        this.dynamicQuery((field as AstNode).query, where)
        this.plpgsqlNode(field, where)
      } else if (key === 'PLpgSQL_stmt_open' || key === 'PLpgSQL_stmt_return_query') {
        if ((field as AstNode).dynquery) this.dynamicQuery((field as AstNode).dynquery, where)
        this.plpgsqlNode(field, where)
      } else this.plpgsqlNode(field, where)
    }
  }

  /** An embedded query (mode 0), expression (2) or assignment (3..5), as SQL. */
  private plpgsqlExpression(expr: AstNode, where: string): void {
    const query = String(expr.query ?? '')
    const mode = Number(expr.parseMode ?? 0)
    const assigned = mode >= 3 ? query.slice(query.search(/:=|=/) + (query.includes(':=') ? 2 : 1)) : query
    this.sqlBody(mode === 0 ? query : `SELECT ${assigned}`, `${where} (${query.trim()})`)
  }

  /** EXECUTE's query: checked when it is a string literal, otherwise unverifiable. */
  private dynamicQuery(value: unknown, where: string): void {
    const query = String((unwrap(value)?.node.query as string | undefined) ?? '')
    let literal: string | null = null
    try {
      const [select] = parseSql(`SELECT ${query}`)
      const targets = (select?.node.targetList as unknown[] | undefined) ?? []
      if (targets.length === 1) literal = stringConstant(unwrap(targets[0])?.node.val)
    } catch {}
    if (literal !== null) this.sqlBody(literal, `${where} (EXECUTE ${query.trim()})`)
    else {
      this.add(
        'unverifiable',
        `${where} runs SQL built at run time (EXECUTE ${query.trim()}): the lint cannot see what it names; the roles still refuse another schema when it runs`,
        'warning',
      )
    }
  }

  /** A declared variable's type: `billing.mood`, `billing.plans%ROWTYPE`, `billing.plans.id%TYPE`. */
  private plpgsqlType(typname: string): void {
    const rowOrColumn = /%(row)?type$/i.exec(typname)
    const parts = nameInString(typname.replace(/%(row)?type$/i, '').replace(/\[\]$/, ''))
    if (!rowOrColumn) this.name('type', parts)
    else this.name('relation', rowOrColumn[1] ? parts : parts.slice(0, -1))
  }
}

/** Every isolation problem in one statement (which may hold several SQL statements). */
export function lintStatement(statement: string, options: IsolationOptions): IsolationViolation[] {
  const lint = new StatementLint(options.schema, options.forbiddenSchemas ?? [], statement)
  let parsed: ParsedStatement[]
  try {
    parsed = parseSql(statement)
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error
    lint.add('syntax', `does not parse: ${error.message}`)
    return lint.violations
  }
  for (const { type, node, text } of parsed) {
    lint.current = text
    lint.visit({ [type]: node })
  }
  return lint.violations
}

/** Isolation problems across a migration's statements, in order. */
export function lintStatements(statements: string[], options: IsolationOptions): IsolationViolation[] {
  return statements.flatMap((statement) => lintStatement(statement, options))
}
