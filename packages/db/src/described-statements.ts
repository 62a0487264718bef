// A pg client that asks PostgreSQL to describe a named statement's rows once per
// connection instead of at every execution.
//
// pg sends Bind, Describe (portal), Execute and Sync for every execution of a named
// statement, so PostgreSQL builds and sends a RowDescription every time and pg parses
// it into new field objects every time, although for a planned statement (SELECT,
// INSERT, UPDATE, DELETE ... RETURNING) the rows' description cannot change on that
// connection: PostgreSQL refuses to run the statement again if it would ("cached plan
// must not change result type"). This client keeps the description of the first
// execution and sends Bind, Execute and Sync after it. pgx (Go) made the same change
// (jackc/pgx#2422); postgres.js has always done it.
//
// What it saves (bench/README.md, bench/scripts/described-statements.ts): a pg pool
// running auth's prepared read at the database's limit answers 3-10 % more queries per
// second, pg's CPU about 1 µs a query lower and PostgreSQL's about 0.6 µs.
//
// Where a description could change between executions the client still asks every
// time: rows as objects (a renamed column of `SELECT *` keeps its type, and PostgreSQL
// does not count a new name as a new result type), statements that are not planned
// (FETCH from a cursor returns whatever that cursor has; pgx#2626), rows in binary, a
// statement that returned no description (an INSERT without RETURNING answers NoData).
// Drizzle runs every query that has fields with rows as arrays, so its prepared reads
// and its writes with RETURNING all take the short path.
//
// pg has no hook for this: the client builds its own Query for every named statement,
// whose prepare() is pg's own (lib/query.js, pg 8.23) but for the Describe and for a
// bug it fixes on the way (a value that cannot be serialized leaves pg counting a
// closed statement as prepared: NamedStatementQuery.prepare). pg's version is pinned
// (and patched, patches/pg@*.patch); test/described-statements.test.ts compares every
// result with stock pg's on a real server and watches the messages on the socket, so an
// upgrade that changes these internals fails it.
import pg from 'pg'

/** The fields of a RowDescription, as pg parsed them (pg-protocol's Field). */
type Fields = readonly unknown[]

/** pg's Query internals this file relies on (not in @types/pg). */
interface PgQuery {
  name?: string
  text?: string
  values?: unknown[]
  portal: string
  binary?: boolean
  rows?: number
  callback?: (error: Error | null, result?: unknown) => void
  types?: unknown
  _canceledDueToError: Error | false
  hasBeenParsed(connection: PgConnection): boolean
  prepare(connection: PgConnection): void
  handleRowDescription(message: { fields: Fields }): void
  _getRows(connection: PgConnection, rows?: number): void
}

/** pg's Connection internals this file relies on. */
interface PgConnection {
  parsedStatements: Record<string, string>
  submittedNamedStatements: Record<string, string>
  parse(config: { text?: string; name: string; types?: unknown }): void
  describe(config: { type: 'P'; name: string }): void
  bind(config: {
    portal: string
    statement?: string
    values?: unknown[]
    binary?: boolean
    valueMapper: (value: unknown) => unknown
  }): void
  sync(): void
}

// A planned statement's first word (after comments and an opening parenthesis). Anything
// else, EXPLAIN and FETCH among them, is described at every execution.
const PLANNED =
  /^(?:\s+|--[^\n]*(?:\n|$)|\/\*(?:[^*/]|\*(?!\/)|\/(?!\*))*\*\/|\()*(?:select|with|insert|update|delete|merge|values|table)\b/i

/** True when the statement's rows' description is fixed once PostgreSQL has planned it. */
export function isPlannedStatement(text: string): boolean {
  return PLANNED.test(text)
}

// Per connection (pg's Connection object, which lives as long as its socket): statement
// name → the description of its rows, recorded at its first execution.
const descriptions = new WeakMap<PgConnection, Map<string, Fields>>()

const prepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils
  .prepareValue
const PgQueryClass = pg.Query as unknown as new (...args: unknown[]) => PgQuery

class NamedStatementQuery extends PgQueryClass {
  /** Set by the client: rows as arrays, not binary, a planned statement (describesOnce). */
  reuseDescription = false
  /** The connection this execution asked for a description on. */
  private describedOn: PgConnection | undefined

  // pg's Query.prepare (lib/query.js), with two differences: the Describe is left out
  // when this connection has described the statement before, and a value that cannot be
  // serialized never closes the statement. (pg closes it, yet still counts it as
  // prepared: every later execution on that connection then fails with "prepared
  // statement ... does not exist". The test file shows the statement still working.)
  override prepare(connection: PgConnection): void {
    const name = this.name!
    const parsed = this.hasBeenParsed(connection)
    if (!parsed) {
      connection.parse({ text: this.text, name, types: this.types })
      connection.submittedNamedStatements[name] = this.text!
    }
    try {
      connection.bind({
        portal: this.portal,
        statement: name,
        values: this.values,
        binary: this.binary,
        valueMapper: prepareValue,
      })
    } catch (error) {
      // Nothing of the Bind was sent (serializing throws first); a Parse before it stays
      // valid. Sync gets ReadyForQuery back, and pg fails the query then, once.
      this._canceledDueToError = error as Error
      connection.sync()
      return
    }
    // Binary rows (the client's binary option sets it after describesOnce ran): each time.
    const reuse = this.reuseDescription && !this.binary
    const known =
      parsed && reuse && connection.parsedStatements[name] === this.text
        ? descriptions.get(connection)?.get(name)
        : undefined
    if (known === undefined) {
      this.describedOn = reuse ? connection : undefined
      connection.describe({ type: 'P', name: this.portal || '' })
    } else {
      this.handleRowDescription({ fields: known })
    }
    this._getRows(connection, this.rows)
  }

  override handleRowDescription(message: { fields: Fields }): void {
    const connection = this.describedOn
    if (connection !== undefined && message.fields.length > 0) {
      this.describedOn = undefined
      let byName = descriptions.get(connection)
      if (byName === undefined) {
        byName = new Map()
        descriptions.set(connection, byName)
      }
      byName.set(this.name!, message.fields)
    }
    super.handleRowDescription(message)
  }
}

// The answer per statement text, so a query's hot path does not run the pattern again: named
// statements are few (pg keeps every one per connection), and Drizzle passes the same string
// each time, whose hash V8 keeps.
const plannedByText = new Map<string, boolean>()

/** Whether a named query's rows may be described once: rows as arrays of a planned statement. */
function describesOnce(config: { text: string; rowMode?: unknown; binary?: unknown }): boolean {
  if (config.rowMode !== 'array' || config.binary === true) return false
  let planned = plannedByText.get(config.text)
  if (planned === undefined) {
    planned = isPlannedStatement(config.text)
    plannedByText.set(config.text, planned)
  }
  return planned
}

/** A query config (not a Submittable) with a name and the statement's text. */
function isNamedConfig(config: unknown): config is { name: string; text: string; rowMode?: unknown } {
  if (config === null || typeof config !== 'object') return false
  const { name, text, submit } = config as Record<string, unknown>
  return typeof submit !== 'function' && typeof name === 'string' && name !== '' && typeof text === 'string'
}

class NamedStatementsClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg.Client.query has a dozen overloads; all pass through
  override query(config: any, values?: any, callback?: any): any {
    if (!isNamedConfig(config))
      return (super.query as (...args: unknown[]) => unknown)(config, values, callback)
    // As pg.Client.query does for a config: a callback (the pool's) or a promise.
    const query = new NamedStatementQuery(config, values, callback)
    query.reuseDescription = describesOnce(config)
    const submit = super.query.bind(this) as unknown as (query: PgQuery) => void
    if (query.callback) {
      submit(query)
      return undefined
    }
    return new Promise((resolve, reject) => {
      query.callback = (error, result) => (error ? reject(error) : resolve(result))
      submit(query)
    }).catch((error: Error) => {
      // pg replaces a failed query's stack (TCP.onStreamRead) with the caller's.
      Error.captureStackTrace(error)
      throw error
    })
  }
}

/**
 * pg.Client, but a named planned statement with rows as arrays is described by
 * PostgreSQL once per connection, and a named statement survives a value that cannot
 * be serialized. Unnamed queries are pg's own. (Typed as pg.Client: its query
 * overloads, not the override's.)
 */
export const DescribedStatementsClient = NamedStatementsClient as typeof pg.Client
