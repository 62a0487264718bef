// The isolation lint: a service's migrations (and their downs) may only name the
// service's own schema. Roles already make a cross-schema statement fail with
// "permission denied" at apply time; this catches it when the file is written
// (add-migration) and in CI (check), with the offending statement.
//
// SQL is tokenised, not parsed: comments and string literals are skipped (so a
// comment that mentions public.x is fine), dollar-quoted bodies are checked like
// code (a function body that reads billing.x is still cross-schema).

export interface SqlToken {
  type: 'ident' | 'string' | 'dot' | 'punct' | 'number'
  /** Unquoted identifiers lower-cased, quoted ones exact, strings unescaped. */
  value: string
  quoted?: boolean
}

export function tokenize(sql: string): SqlToken[] {
  const tokens: SqlToken[] = []
  let i = 0
  while (i < sql.length) {
    const ch = sql[i]!
    const next = sql[i + 1]
    if (/\s/.test(ch)) {
      i++
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i)
      i = end === -1 ? sql.length : end + 1
    } else if (ch === '/' && next === '*') {
      let depth = 1
      i += 2
      while (i < sql.length && depth > 0) {
        if (sql.startsWith('/*', i)) {
          depth++
          i += 2
        } else if (sql.startsWith('*/', i)) {
          depth--
          i += 2
        } else i++
      }
    } else if (ch === "'" || ((ch === 'e' || ch === 'E') && next === "'")) {
      const backslashEscapes = ch !== "'"
      let j = ch === "'" ? i + 1 : i + 2
      let value = ''
      while (j < sql.length) {
        if (backslashEscapes && sql[j] === '\\') {
          value += sql[j + 1] ?? ''
          j += 2
        } else if (sql[j] === "'" && sql[j + 1] === "'") {
          value += "'"
          j += 2
        } else if (sql[j] === "'") break
        else value += sql[j++]
      }
      tokens.push({ type: 'string', value })
      i = j + 1
    } else if (ch === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))![0]
      const end = sql.indexOf(tag, i + tag.length)
      const body = sql.slice(i + tag.length, end === -1 ? sql.length : end)
      // Function bodies are code: check them like the statement around them.
      tokens.push(...tokenize(body))
      i = end === -1 ? sql.length : end + tag.length
    } else if (ch === '"') {
      let j = i + 1
      let value = ''
      while (j < sql.length) {
        if (sql[j] === '"' && sql[j + 1] === '"') {
          value += '"'
          j += 2
        } else if (sql[j] === '"') break
        else value += sql[j++]
      }
      tokens.push({ type: 'ident', value, quoted: true })
      i = j + 1
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      const match = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(sql.slice(i))![0]
      tokens.push({ type: 'ident', value: match.toLowerCase() })
      i += match.length
    } else if (/[0-9]/.test(ch)) {
      const match = /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?/.exec(sql.slice(i))![0]
      tokens.push({ type: 'number', value: match })
      i += match.length
    } else if (ch === '.') {
      tokens.push({ type: 'dot', value: '.' })
      i++
    } else {
      tokens.push({ type: 'punct', value: ch })
      i++
    }
  }
  return tokens
}

const keyword = (token: SqlToken | undefined, ...words: string[]) =>
  token?.type === 'ident' && !token.quoted && words.includes(token.value)

export interface IsolationViolation {
  /** Stable rule name, e.g. `other-schema`. */
  rule: 'other-schema' | 'search-path' | 'schema-statement' | 'own-schema-dropped' | 'ledger'
  message: string
  statement: string
}

export interface IsolationOptions {
  /** The service's own schema: the only one its SQL may name. */
  schema: string
  /** Schemas that must never be named: other services' and `public` (always included). */
  forbiddenSchemas?: string[]
}

/** Schemas a `SET search_path` may list without leaving the service's own schema. */
const HARMLESS_PATH = new Set(['pg_catalog', 'pg_temp'])

/** Every isolation problem in one statement. */
export function lintStatement(statement: string, options: IsolationOptions): IsolationViolation[] {
  const own = options.schema
  const forbidden = new Set(['public', ...(options.forbiddenSchemas ?? [])].filter((s) => s !== own))
  const tokens = tokenize(statement)
  const violations: IsolationViolation[] = []
  const add = (rule: IsolationViolation['rule'], message: string) => {
    if (!violations.some((v) => v.message === message)) violations.push({ rule, message, statement })
  }

  tokens.forEach((token, i) => {
    const previous = tokens[i - 1]
    // schema.object, the first part of a qualified name.
    if (
      token.type === 'ident' &&
      previous?.type !== 'dot' &&
      tokens[i + 1]?.type === 'dot' &&
      tokens[i + 2]?.type === 'ident' &&
      forbidden.has(token.value)
    ) {
      add('other-schema', `names schema "${token.value}" (${token.value}.${tokens[i + 2]!.value})`)
    }
    if (token.type === 'ident' && token.value === '__drizzle_migrations') {
      add('ledger', 'touches the migration ledger __drizzle_migrations, which belongs to the runner')
    }
    if (token.type === 'string' && token.value.toLowerCase() === 'search_path') {
      add('search-path', "sets search_path (set_config('search_path', ...))")
    }
    if (keyword(token, 'search_path') && keyword(previous, 'set', 'local', 'session')) {
      const values: string[] = []
      for (let j = i + 1; j < tokens.length; j++) {
        const t = tokens[j]!
        if (t.type === 'punct' && (t.value === '=' || t.value === ',')) continue
        if (keyword(t, 'to') && j === i + 1) continue
        if (t.type === 'ident' || t.type === 'string') values.push(t.value)
        else break
        if (tokens[j + 1]?.type !== 'punct' || tokens[j + 1]!.value !== ',') break
      }
      const outside = values.filter((v) => v !== own && !HARMLESS_PATH.has(v))
      if (values.length === 0 || outside.length > 0) {
        add('search-path', `sets search_path to ${values.join(', ') || '(unknown)'}`)
      }
    }
    // CREATE/ALTER/DROP SCHEMA x, GRANT ... ON SCHEMA x, ... IN SCHEMA x, SET SCHEMA x;
    // elsewhere (CREATE EXTENSION ... SCHEMA x) only a forbidden x counts.
    if (keyword(token, 'schema') && !(previous?.type === 'dot')) {
      const verb = keyword(previous, 'create', 'alter', 'drop', 'on', 'in', 'set', 'comment')
        ? previous!.value
        : null
      if (!verb) {
        const name = tokens[i + 1]
        if (name?.type === 'ident' && forbidden.has(name.value)) {
          add('schema-statement', `puts an object in schema "${name.value}" (SCHEMA ${name.value})`)
        }
        return
      }
      let j = i + 1
      while (keyword(tokens[j], 'if', 'not', 'exists')) j++
      if (keyword(tokens[j], 'authorization')) {
        add('schema-statement', 'creates a schema named after a role (CREATE SCHEMA AUTHORIZATION)')
        return
      }
      for (; j < tokens.length; j += 2) {
        const name = tokens[j]
        if (name?.type !== 'ident') break
        if (name.value !== own) add('schema-statement', `${verb.toUpperCase()} SCHEMA "${name.value}"`)
        else if (verb === 'drop') add('own-schema-dropped', `drops the service's own schema "${own}"`)
        if (tokens[j + 1]?.value !== ',') break
      }
    }
  })
  return violations
}

/** Isolation problems across a migration's statements, in order. */
export function lintStatements(statements: string[], options: IsolationOptions): IsolationViolation[] {
  return statements.flatMap((statement) => lintStatement(statement, options))
}

/** `DROP SCHEMA <schema>` in any form: never part of a rollback. */
export function dropsSchema(statement: string, schema: string): boolean {
  return lintStatement(statement, { schema }).some((v) => v.rule === 'own-schema-dropped')
}

/** Mentions the runner's ledger table. */
export function touchesLedger(statement: string): boolean {
  return tokenize(statement).some((t) => t.type === 'ident' && t.value === '__drizzle_migrations')
}
