// What an interrupted CREATE INDEX CONCURRENTLY (or REINDEX ... CONCURRENTLY)
// leaves behind: an INVALID index, unused by queries but still updated by every
// write (and, when unique, still refusing duplicates). `IF NOT EXISTS` would skip
// it on a re-run, so before such a statement the runner drops the INVALID leftover
// it would collide with, concurrently, and the statement builds it again. Also
// dropped right after such a statement fails. The statement is recognised with
// plain string code (the runtime carries no SQL parser); the authoring lint makes
// sure each CREATE INDEX CONCURRENTLY names its index, so it can be found here.
import type pg from 'pg'
import { quoteIdent } from './ledger.js'
import type { MigrationLogger } from './logger.js'

const IDENT = `"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*`

const CREATE_CONCURRENTLY = new RegExp(
  String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(${IDENT})\s+ON\b`,
  'i',
)

/** The statement without the comments in front of it. */
function withoutLeadingComments(statement: string): string {
  let text = statement.trimStart()
  for (;;) {
    if (text.startsWith('--')) {
      const end = text.indexOf('\n')
      text = end === -1 ? '' : text.slice(end + 1).trimStart()
    } else if (text.startsWith('/*')) {
      const end = text.indexOf('*/')
      text = end === -1 ? '' : text.slice(end + 2).trimStart()
    } else return text
  }
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name.toLowerCase()
}

/** The index a `CREATE [UNIQUE] INDEX CONCURRENTLY <name> ON ...` builds, or null. */
export function concurrentIndexName(statement: string): string | null {
  const match = CREATE_CONCURRENTLY.exec(withoutLeadingComments(statement))
  return match ? unquote(match[1]!) : null
}

/** `REINDEX ... CONCURRENTLY ...`, whose leftovers are named `<index>_ccnew[N]` / `_ccold[N]`. */
export function reindexesConcurrently(statement: string): boolean {
  return /^REINDEX\b[^;]*\bCONCURRENTLY\b/i.test(withoutLeadingComments(statement))
}

/** Statements that wait for older snapshots and leave an INVALID index when interrupted. */
export function buildsIndexConcurrently(statement: string): boolean {
  return concurrentIndexName(statement) !== null || reindexesConcurrently(statement)
}

/** INVALID indexes of `schema` that `statement` would collide with or leave behind. */
async function leftoversOf(client: pg.ClientBase, schema: string, statement: string): Promise<string[]> {
  const name = concurrentIndexName(statement)
  if (name === null && !reindexesConcurrently(statement)) return []
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT i.indisvalid
        AND ($2::text IS NULL AND c.relname ~ '_cc(new|old)[0-9]*$' OR c.relname = $2)
      ORDER BY c.relname`,
    [schema, name],
  )
  return rows.map((row) => row.name)
}

/** Drops what an interrupted run of `statement` left, concurrently; returns the names dropped. */
export async function dropInvalidLeftovers(
  client: pg.ClientBase,
  schema: string,
  statement: string,
  log: { logger: MigrationLogger; file: string },
): Promise<string[]> {
  const dropped: string[] = []
  for (const name of await leftoversOf(client, schema, statement)) {
    log.logger.warn(
      { schema, migration: log.file, index: name },
      `${schema}: ${log.file}: index ${name} is INVALID (an interrupted concurrent build left it); dropping it to build it again`,
    )
    await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${quoteIdent(schema)}.${quoteIdent(name)}`)
    dropped.push(name)
  }
  return dropped
}
