import { createTestDatabase, withUser } from '@app/db/testing'
import pg from 'pg'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { bootstrapServices } from '../src/bootstrap.js'

const services = [{ name: 'auth' }, { name: 'billing' }]
let url: string

async function run<T extends pg.QueryResultRow>(connection: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: connection })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

/** Roles, schemas with owners and ACLs, database ACL: what the bootstrap decides. */
async function privilegeSnapshot(connection: string) {
  return run(
    connection,
    `SELECT json_build_object(
       'roles', (SELECT json_agg(json_build_object('name', rolname, 'login', rolcanlogin, 'super', rolsuper,
                   'createdb', rolcreatedb, 'createrole', rolcreaterole, 'password', rolpassword) ORDER BY rolname)
                 FROM pg_authid WHERE rolname IN ('auth', 'billing')),
       'schemas', (SELECT json_agg(json_build_object('name', nspname, 'owner', pg_get_userbyid(nspowner), 'acl', nspacl::text[]) ORDER BY nspname)
                   FROM pg_namespace WHERE nspname IN ('auth', 'billing', 'public')),
       'database', (SELECT datacl::text[] FROM pg_database WHERE datname = current_database()),
       'settings', (SELECT json_agg(setconfig ORDER BY setrole) FROM pg_db_role_setting
                    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
     ) AS snapshot`,
  )
}

beforeAll(async () => {
  const run = inject('testRun')
  const database = await createTestDatabase(run.adminUrl, { prefix: `${run.prefix}_bootstrap` })
  url = database.url
  return () => database.drop()
})

describe('bootstrap', () => {
  test('running it twice changes nothing', async () => {
    await bootstrapServices(url, services, {})
    const first = await privilegeSnapshot(url)
    await bootstrapServices(url, services, {})
    expect(await privilegeSnapshot(url)).toEqual(first)
  })

  test("each role owns its schema and is denied the other's and public", async () => {
    await bootstrapServices(url, services, {})
    const billing = withUser(url, 'billing', 'billing-dev-password')
    const auth = withUser(url, 'auth', 'auth-dev-password')
    await run(auth, 'CREATE TABLE auth.users (id int)')
    await run(billing, 'CREATE TABLE billing.plans (id int)')

    await expect(run(billing, 'SELECT * FROM auth.users')).rejects.toThrow(
      /permission denied for schema auth/,
    )
    await expect(run(billing, 'CREATE TABLE auth.sneaky (id int)')).rejects.toThrow(
      /permission denied for schema auth/,
    )
    await expect(run(auth, 'DROP TABLE billing.plans')).rejects.toThrow(
      /permission denied for schema billing/,
    )
    await expect(run(auth, 'CREATE TABLE public.stray (id int)')).rejects.toThrow(
      /permission denied for schema public/,
    )
    await expect(run(auth, 'CREATE SCHEMA extra')).rejects.toThrow(/permission denied for database/)
    expect(await run(auth, 'SELECT count(*)::int AS n FROM auth.users')).toEqual([{ n: 0 }])
  })
})
