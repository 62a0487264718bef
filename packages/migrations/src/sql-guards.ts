// Two guards rollback applies to every down before touching anything: no DROP
// SCHEMA of the service's own schema, nothing naming the runner's ledger. The
// runtime carries no SQL parser (the services bundle it), so SQL is tokenised:
// comments and string literals are skipped, dollar-quoted bodies are read like
// code. The isolation lint proper, on PostgreSQL's own parser, is authoring's
// (authoring/isolation-lint.ts), run at add-migration and check.

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

/** `DROP SCHEMA [IF EXISTS] a, <schema>, ...` in any form: never part of a rollback. */
export function dropsSchema(statement: string, schema: string): boolean {
  const tokens = tokenize(statement)
  return tokens.some((token, i) => {
    if (!keyword(token, 'schema') || !keyword(tokens[i - 1], 'drop')) return false
    let j = i + 1
    if (keyword(tokens[j], 'if') && keyword(tokens[j + 1], 'exists')) j += 2
    for (; tokens[j]?.type === 'ident'; j += 2) {
      if (tokens[j]!.value === schema) return true
      if (tokens[j + 1]?.value !== ',') break
    }
    return false
  })
}

/** Mentions the runner's ledger table. */
export function touchesLedger(statement: string): boolean {
  return tokenize(statement).some((t) => t.type === 'ident' && t.value === '__drizzle_migrations')
}
