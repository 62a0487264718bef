// The walls between the services, tried with each service's own logins: the
// schema owner (migrations) and the runtime role (requests). Neither service can
// read, write or alter the other's schema, and nobody can create anything in
// public; the runtime role cannot change its own schema either (no DDL, no write to
// the migration ledger). Each attempt must fail with SQLSTATE 42501 (insufficient
// privilege), and the same role doing what it may in its own schema must succeed,
// so a failure means the wall, not a broken connection.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { migratedDatabase, ownerRoleUrl, runtimeRoleUrl, type ServiceName } from './support/databases.js'
import { saveFigures } from './support/figures.js'

let databaseUrl: string

beforeAll(async () => {
  databaseUrl = (await migratedDatabase('privileges')).url
})

afterAll(() => saveFigures(import.meta.filename))

/** Runs each statement as the role in a transaction that is rolled back; returns the SQLSTATE (or 'ok'). */
async function attempt(
  role: ServiceName,
  statements: string[],
  as: 'owner' | 'runtime' = 'owner',
): Promise<string[]> {
  const url = as === 'owner' ? ownerRoleUrl(databaseUrl, role) : runtimeRoleUrl(databaseUrl, role)
  const client = new pg.Client({ connectionString: url, application_name: 'drills' })
  await client.connect()
  try {
    const outcomes: string[] = []
    for (const statement of statements) {
      await client.query('BEGIN')
      try {
        await client.query(statement)
        outcomes.push('ok')
      } catch (error) {
        outcomes.push((error as { code?: string }).code ?? String(error))
      } finally {
        await client.query('ROLLBACK')
      }
    }
    return outcomes
  } finally {
    await client.end()
  }
}

// What one service could try on a table of another's: read, write, change, destroy.
function attacksOn(table: string, schema: string, column: string): string[] {
  return [
    `SELECT * FROM ${table} LIMIT 1`,
    `SELECT count(*) FROM ${table}`,
    `INSERT INTO ${table} DEFAULT VALUES`,
    `UPDATE ${table} SET ${column} = ${column}`,
    `DELETE FROM ${table}`,
    `TRUNCATE ${table} CASCADE`,
    `ALTER TABLE ${table} ADD COLUMN drill_intruder integer`,
    `DROP TABLE ${table} CASCADE`,
    `CREATE TABLE ${schema}.drill_intruder (id integer)`,
    `CREATE FUNCTION ${schema}.drill_intruder() RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
    `COMMENT ON SCHEMA ${schema} IS 'drill intruder'`,
    `DROP SCHEMA ${schema} CASCADE`,
    `SELECT * FROM ${schema}.__drizzle_migrations`,
    `DELETE FROM ${schema}.__drizzle_migrations`,
    `LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`,
  ]
}

const PUBLIC_ATTACKS = [
  'CREATE TABLE public.drill_intruder (id integer)',
  'CREATE VIEW public.drill_intruder AS SELECT 1',
  'CREATE SEQUENCE public.drill_intruder',
  "CREATE FUNCTION public.drill_intruder() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
  'CREATE SCHEMA drill_intruder',
]

const walls = [
  { role: 'billing', other: 'auth', table: 'auth.users', column: 'username', own: 'billing.subscriptions' },
  { role: 'auth', other: 'billing', table: 'billing.subscriptions', column: 'category', own: 'auth.users' },
] as const

describe.each(walls)('the $role role', ({ role, other, table, column, own }) => {
  test(`reads its own schema (the control)`, async () => {
    expect(
      await attempt(role, [`SELECT count(*) FROM ${own}`, `SELECT * FROM ${role}.__drizzle_migrations`]),
    ).toEqual(['ok', 'ok'])
  })

  test(`cannot read, write or alter the ${other} schema: permission denied`, async () => {
    const statements = attacksOn(table, other, column)
    const outcomes = await attempt(role, statements)
    expect(Object.fromEntries(statements.map((s, i) => [s, outcomes[i]]))).toEqual(
      Object.fromEntries(statements.map((s) => [s, '42501'])),
    )
  })

  test('cannot create anything in public (nor a schema of its own)', async () => {
    const outcomes = await attempt(role, PUBLIC_ATTACKS)
    expect(Object.fromEntries(PUBLIC_ATTACKS.map((s, i) => [s, outcomes[i]]))).toEqual(
      Object.fromEntries(PUBLIC_ATTACKS.map((s) => [s, '42501'])),
    )
  })

  test(`the same statements work on its own schema (they are not simply malformed)`, async () => {
    const ownColumn = role === 'auth' ? 'username' : 'category'
    const statements = attacksOn(own, role, ownColumn).filter((s) => !s.startsWith('INSERT'))
    const outcomes = await attempt(role, statements)
    expect(Object.fromEntries(statements.map((s, i) => [s, outcomes[i]]))).toEqual(
      Object.fromEntries(statements.map((s) => [s, 'ok'])),
    )
  })
})

const runtimeWalls = [
  {
    role: 'auth',
    other: 'billing',
    own: 'auth.users',
    otherTable: 'billing.subscriptions',
    column: 'username',
  },
  {
    role: 'billing',
    other: 'auth',
    own: 'billing.subscriptions',
    otherTable: 'auth.users',
    column: 'category',
  },
] as const

describe.each(runtimeWalls)('the runtime role $role_app', ({ role, other, own, otherTable, column }) => {
  test('reads and writes the rows of its own tables, and reads the ledger (the control)', async () => {
    const statements = [
      `SELECT count(*) FROM ${own}`,
      `UPDATE ${own} SET ${column} = ${column}`,
      `DELETE FROM ${own}`,
      `SELECT count(*) FROM ${role}.__drizzle_migrations`,
    ]
    expect(await attempt(role, statements, 'runtime')).toEqual(statements.map(() => 'ok'))
  })

  test('cannot change its own schema: no DDL, no TRUNCATE, no write to the migration ledger', async () => {
    const statements = [
      `DROP TABLE ${own} CASCADE`,
      `ALTER TABLE ${own} ADD COLUMN drill_intruder integer`,
      `ALTER TABLE ${own} DROP COLUMN ${column}`,
      `CREATE TABLE ${role}.drill_intruder (id integer)`,
      `CREATE INDEX drill_intruder ON ${own} (${column})`,
      `TRUNCATE ${own}`,
      `COMMENT ON TABLE ${own} IS 'drill intruder'`,
      `CREATE FUNCTION ${role}.drill_intruder() RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
      `DROP SCHEMA ${role} CASCADE`,
      `INSERT INTO ${role}.__drizzle_migrations (hash, created_at) VALUES ('forged', 1)`,
      `UPDATE ${role}.__drizzle_migrations SET hash = 'forged'`,
      `DELETE FROM ${role}.__drizzle_migrations`,
      `TRUNCATE ${role}.__drizzle_migrations`,
      `SELECT nextval('${role}.__drizzle_migrations_id_seq')`,
    ]
    const outcomes = await attempt(role, statements, 'runtime')
    expect(Object.fromEntries(statements.map((s, i) => [s, outcomes[i]]))).toEqual(
      Object.fromEntries(statements.map((s) => [s, '42501'])),
    )
  })

  test(`cannot read or write the ${other} schema, nor create anything in public`, async () => {
    const statements = [
      `SELECT * FROM ${otherTable} LIMIT 1`,
      `DELETE FROM ${otherTable}`,
      `SELECT * FROM ${other}.__drizzle_migrations`,
      ...PUBLIC_ATTACKS,
    ]
    const outcomes = await attempt(role, statements, 'runtime')
    expect(Object.fromEntries(statements.map((s, i) => [s, outcomes[i]]))).toEqual(
      Object.fromEntries(statements.map((s) => [s, '42501'])),
    )
  })
})
