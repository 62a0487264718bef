// One schema as pg_catalog describes it: tables and views with their columns,
// constraints, indexes, triggers and policies; sequences, enums (with their labels),
// domains, other types and functions. Deterministic (everything sorted by name,
// every definition printed by Postgres itself with search_path = pg_catalog, so
// names outside pg_catalog come out schema-qualified), so two catalogs can be
// compared with a deep equality or with diffCatalogs() for a readable difference.
//
// Not compared: column order (a down that re-adds a dropped column puts it last,
// which changes nothing a query by name sees), table data, sequence values, and
// the runner's own ledger table.
import type pg from 'pg'
import { assertSchemaName, LEDGER_TABLE } from './ledger.js'
import { type ConnectionOptions, withConnection } from './session.js'

export interface CatalogColumn {
  name: string
  type: string
  notNull: boolean
  default: string | null
  /** `always` or `by default` for identity columns. */
  identity: string | null
  /** The expression of a generated column. */
  generated: string | null
  /** Only when it differs from the type's default collation. */
  collation: string | null
  comment: string | null
}

export interface CatalogTable {
  name: string
  kind: string
  owner: string
  rowSecurity: boolean
  forceRowSecurity: boolean
  comment: string | null
  /** Views and materialized views: the query. */
  definition: string | null
  columns: CatalogColumn[]
  constraints: { name: string; definition: string }[]
  indexes: { name: string; definition: string }[]
  triggers: { name: string; definition: string }[]
  policies: { name: string; definition: string }[]
}

export interface CatalogSequence {
  name: string
  definition: string
  /** `table.column` that owns it (serial and identity columns). */
  ownedBy: string | null
}

export interface SchemaCatalog {
  schema: string
  tables: CatalogTable[]
  sequences: CatalogSequence[]
  enums: { name: string; labels: string[] }[]
  domains: { name: string; definition: string }[]
  /** Composite, range and other types that are neither enums, domains nor a table's row type. */
  types: { name: string; kind: string }[]
  functions: { signature: string; definition: string }[]
}

const RELATION_KINDS: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

export interface ReadCatalogOptions extends ConnectionOptions {
  schema: string
}

/** Reads one schema's catalog; read-only, in one snapshot. */
export async function readCatalog(options: ReadCatalogOptions): Promise<SchemaCatalog> {
  assertSchemaName(options.schema)
  return withConnection(options, `${options.schema}-catalog`, async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    try {
      // Every name outside pg_catalog is printed schema-qualified, whoever reads.
      await client.query('SET LOCAL search_path TO pg_catalog')
      const catalog = await readCatalogIn(client, options.schema)
      await client.query('COMMIT')
      return catalog
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    }
  })
}

async function rows<T extends pg.QueryResultRow>(
  client: pg.ClientBase,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  return (await client.query<T>(sql, params)).rows
}

async function readCatalogIn(client: pg.ClientBase, schema: string): Promise<SchemaCatalog> {
  const params = [schema, LEDGER_TABLE]
  const relations = await rows<{
    oid: number
    name: string
    kind: string
    owner: string
    row_security: boolean
    force_row_security: boolean
    comment: string | null
    definition: string | null
  }>(
    client,
    `SELECT c.oid, c.relname AS name, c.relkind AS kind, pg_get_userbyid(c.relowner) AS owner,
            c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security,
            obj_description(c.oid, 'pg_class') AS comment,
            CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> $2`,
    params,
  )
  const tables = new Map<number, CatalogTable>(
    relations.map((r) => [
      r.oid,
      {
        name: r.name,
        kind: RELATION_KINDS[r.kind] ?? r.kind,
        owner: r.owner,
        rowSecurity: r.row_security,
        forceRowSecurity: r.force_row_security,
        comment: r.comment,
        definition: r.definition,
        columns: [],
        constraints: [],
        indexes: [],
        triggers: [],
        policies: [],
      },
    ]),
  )
  const oids = [...tables.keys()]

  for (const c of await rows<{
    table: number
    name: string
    type: string
    not_null: boolean
    default: string | null
    identity: string
    generated: string
    collation: string | null
    comment: string | null
  }>(
    client,
    `SELECT a.attrelid AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
            a.attidentity AS identity, a.attgenerated AS generated,
            CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation,
            col_description(a.attrelid, a.attnum) AS comment
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       LEFT JOIN pg_collation co ON co.oid = a.attcollation
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped`,
    [oids],
  )) {
    const generated = c.generated === 's' || c.generated === 'v'
    tables.get(c.table)!.columns.push({
      name: c.name,
      type: c.type,
      notNull: c.not_null,
      default: generated ? null : c.default,
      identity: c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : null,
      generated: generated ? c.default : null,
      collation: c.collation,
      comment: c.comment,
    })
  }

  for (const c of await rows<{ table: number; name: string; definition: string }>(
    client,
    `SELECT conrelid AS table, conname AS name, pg_get_constraintdef(oid, true) AS definition
       FROM pg_constraint WHERE conrelid = ANY($1::oid[])`,
    [oids],
  )) {
    tables.get(c.table)!.constraints.push({ name: c.name, definition: c.definition })
  }

  for (const i of await rows<{ table: number; name: string; definition: string }>(
    client,
    `SELECT i.indrelid AS table, c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = ANY($1::oid[])`,
    [oids],
  )) {
    tables.get(i.table)!.indexes.push({ name: i.name, definition: i.definition })
  }

  for (const t of await rows<{ table: number; name: string; definition: string }>(
    client,
    `SELECT tgrelid AS table, tgname AS name, pg_get_triggerdef(oid) AS definition
       FROM pg_trigger WHERE tgrelid = ANY($1::oid[]) AND NOT tgisinternal`,
    [oids],
  )) {
    tables.get(t.table)!.triggers.push({ name: t.name, definition: t.definition })
  }

  for (const p of await rows<{ table: number; name: string; definition: string }>(
    client,
    `SELECT polrelid AS table, polname AS name,
            concat_ws(' ', CASE WHEN polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
              'FOR', CASE polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                 WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
              'TO', (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END, ', ' ORDER BY 1)
                       FROM unnest(polroles) AS r),
              'USING (' || pg_get_expr(polqual, polrelid) || ')',
              'WITH CHECK (' || pg_get_expr(polwithcheck, polrelid) || ')') AS definition
       FROM pg_policy WHERE polrelid = ANY($1::oid[])`,
    [oids],
  )) {
    tables.get(p.table)!.policies.push({ name: p.name, definition: p.definition })
  }

  const sequences = await rows<CatalogSequence>(
    client,
    `SELECT c.relname AS name,
            format('%s start %s increment %s min %s max %s cache %s%s', format_type(s.seqtypid, NULL),
                   s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                   CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END) AS definition,
            (SELECT t.relname || '.' || a.attname
               FROM pg_depend d
               JOIN pg_class t ON t.oid = d.refobjid
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
              LIMIT 1) AS "ownedBy"
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_sequence s ON s.seqrelid = c.oid
      WHERE n.nspname = $1 AND c.relkind = 'S'`,
    [schema],
  )

  const enums = await rows<{ name: string; labels: string[] }>(
    client,
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE n.nspname = $1 GROUP BY t.typname`,
    [schema],
  )

  const domains = await rows<{ name: string; definition: string }>(
    client,
    `SELECT t.typname AS name,
            concat_ws(' ', format_type(t.typbasetype, t.typtypmod),
              CASE WHEN t.typnotnull THEN 'NOT NULL' END,
              'DEFAULT ' || t.typdefault,
              (SELECT string_agg(conname || ' ' || pg_get_constraintdef(c.oid, true), ', ' ORDER BY conname)
                 FROM pg_constraint c WHERE c.contypid = t.oid)) AS definition
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 AND t.typtype = 'd'`,
    [schema],
  )

  const types = await rows<{ name: string; kind: string }>(
    client,
    `SELECT t.typname AS name,
            CASE t.typtype WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range' WHEN 'm' THEN 'multirange'
                           WHEN 'p' THEN 'pseudo' ELSE 'base' END AS kind
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       LEFT JOIN pg_class c ON c.oid = t.typrelid
      WHERE n.nspname = $1 AND t.typtype NOT IN ('e', 'd')
        AND (t.typrelid = 0 OR c.relkind = 'c')
        AND NOT (t.typcategory = 'A' AND t.typelem <> 0)`,
    [schema],
  )

  const functions = await rows<{ signature: string; definition: string }>(
    client,
    `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS signature,
            CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END AS definition
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1`,
    [schema],
  )

  const sortedTables = [...tables.values()].sort(byName)
  for (const table of sortedTables) {
    table.columns.sort(byName)
    table.constraints.sort(byName)
    table.indexes.sort(byName)
    table.triggers.sort(byName)
    table.policies.sort(byName)
  }
  return {
    schema,
    tables: sortedTables,
    sequences: sequences.filter((s) => !s.ownedBy?.startsWith(`${LEDGER_TABLE}.`)).sort(byName),
    enums: enums.sort(byName),
    domains: domains.sort(byName),
    types: types.sort(byName),
    functions: functions.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0)),
  }
}

export interface CatalogObject {
  /** Its attributes, each printed on one line. */
  attributes: Record<string, string>
  /** The table or view a column, constraint, index, trigger or policy belongs to. */
  parent?: string
}

/** Every object in the catalog by `kind schema.name`, e.g. `column auth.users.email`. */
export function catalogObjects(catalog: SchemaCatalog): Map<string, CatalogObject> {
  const s = catalog.schema
  const objects = new Map<string, CatalogObject>()
  const text = (value: unknown) => (value === null || value === undefined ? '-' : String(value))
  for (const table of catalog.tables) {
    const t = `${s}.${table.name}`
    const parent = `${table.kind} ${t}`
    objects.set(parent, {
      attributes: {
        owner: table.owner,
        'row security': `${table.rowSecurity}${table.forceRowSecurity ? ' (forced)' : ''}`,
        comment: text(table.comment),
        ...(table.definition === null ? {} : { definition: table.definition }),
      },
    })
    const child = (name: string, attributes: Record<string, string>) =>
      objects.set(name, { attributes, parent })
    for (const column of table.columns) {
      child(`column ${t}.${column.name}`, {
        type: column.type,
        nullable: column.notNull ? 'NOT NULL' : 'NULL',
        default: text(column.default),
        identity: text(column.identity),
        generated: text(column.generated),
        collation: text(column.collation),
        comment: text(column.comment),
      })
    }
    for (const c of table.constraints) child(`constraint ${c.name} on ${t}`, { definition: c.definition })
    for (const i of table.indexes) child(`index ${s}.${i.name}`, { definition: i.definition })
    for (const g of table.triggers) child(`trigger ${g.name} on ${t}`, { definition: g.definition })
    for (const p of table.policies) child(`policy ${p.name} on ${t}`, { definition: p.definition })
  }
  const add = (name: string, attributes: Record<string, string>) => objects.set(name, { attributes })
  for (const q of catalog.sequences) {
    add(`sequence ${s}.${q.name}`, { definition: q.definition, 'owned by': text(q.ownedBy) })
  }
  for (const e of catalog.enums) add(`enum ${s}.${e.name}`, { labels: e.labels.join(', ') })
  for (const d of catalog.domains) add(`domain ${s}.${d.name}`, { definition: d.definition })
  for (const t of catalog.types) add(`type ${s}.${t.name}`, { kind: t.kind })
  for (const f of catalog.functions) add(`function ${s}.${f.signature}`, { definition: f.definition })
  return objects
}

export interface CatalogDifference {
  /** `missing`: only in the expected catalog; `extra`: only in the actual one. */
  kind: 'missing' | 'extra' | 'changed'
  object: string
  /** For `changed`: each differing attribute as `name: expected -> actual`. */
  changes: string[]
}

/**
 * What differs between two catalogs of the same schema, object by object, sorted.
 * A table or view that is missing (or extra) as a whole is one difference, not one
 * per column and index.
 */
export function diffCatalogs(expected: SchemaCatalog, actual: SchemaCatalog): CatalogDifference[] {
  const a = catalogObjects(expected)
  const b = catalogObjects(actual)
  const differences: CatalogDifference[] = []
  for (const object of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const before = a.get(object)?.attributes
    const after = b.get(object)?.attributes
    const parent = a.get(object)?.parent ?? b.get(object)?.parent
    if (parent && (!a.has(parent) || !b.has(parent))) continue
    if (!after) differences.push({ kind: 'missing', object, changes: [] })
    else if (!before) differences.push({ kind: 'extra', object, changes: [] })
    else {
      const changes = [...new Set([...Object.keys(before), ...Object.keys(after)])]
        .filter((key) => before[key] !== after[key])
        .map((key) => `${key}: ${before[key] ?? '-'} -> ${after[key] ?? '-'}`)
      if (changes.length > 0) differences.push({ kind: 'changed', object, changes })
    }
  }
  return differences
}

/** Human-readable lines for diffCatalogs(), e.g. for `make check`. */
export function formatCatalogDifferences(
  differences: CatalogDifference[],
  labels: { expected: string; actual: string } = { expected: 'expected', actual: 'actual' },
): string[] {
  return differences.flatMap((d) => {
    if (d.kind === 'missing') return [`- ${d.object} (in ${labels.expected}, missing in ${labels.actual})`]
    if (d.kind === 'extra') return [`+ ${d.object} (in ${labels.actual}, not in ${labels.expected})`]
    return [`~ ${d.object}`, ...d.changes.map((change) => `    ${change.replaceAll('\n', '\n    ')}`)]
  })
}
