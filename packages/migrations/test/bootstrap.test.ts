import { execFile } from 'node:child_process'
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto'
import path from 'node:path'
import { promisify } from 'node:util'
import { createScratchDatabase, type ScratchDatabase, withUser } from '@app/db'
import pg from 'pg'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { bootstrapServices } from '../src/authoring/bootstrap.js'
import { repoRoot } from '../src/authoring/workspace.js'

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
                 FROM pg_authid WHERE rolname IN ('auth', 'billing', 'auth_app', 'billing_app')),
       'members', (SELECT json_agg(json_build_object('role', roleid::regrole::text, 'member', member::regrole::text) ORDER BY 1, 2)
                   FROM pg_auth_members WHERE roleid::regrole::text IN ('auth_app', 'billing_app')),
       'defaults', (SELECT json_agg(json_build_object('owner', defaclrole::regrole::text, 'schema', defaclnamespace::regnamespace::text,
                      'type', defaclobjtype, 'acl', defaclacl::text[]) ORDER BY 1, 2, 3)
                    FROM pg_default_acl),
       'schemas', (SELECT json_agg(json_build_object('name', nspname, 'owner', pg_get_userbyid(nspowner), 'acl', nspacl::text[]) ORDER BY nspname)
                   FROM pg_namespace WHERE nspname IN ('auth', 'billing', 'public')),
       'database', (SELECT datacl::text[] FROM pg_database WHERE datname = current_database()),
       'settings', (SELECT json_agg(setconfig ORDER BY setrole) FROM pg_db_role_setting
                    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
     ) AS snapshot`,
  )
}

const initScript = path.join(repoRoot(), 'infra', 'postgres', 'initdb', '10-bootstrap-services.sh')

/**
 * The docker-compose init script, run for real with psql against the test
 * server: the official image would give it POSTGRES_USER/POSTGRES_DB and a local
 * socket; here libpq's PG* variables point psql at the test database instead.
 */
async function runInitScript(database: string, env: Record<string, string>) {
  const target = new URL(database)
  return promisify(execFile)('bash', [initScript], {
    env: {
      PATH: process.env.PATH,
      PGHOST: target.hostname,
      PGPORT: target.port || '5432',
      PGPASSWORD: decodeURIComponent(target.password),
      POSTGRES_USER: decodeURIComponent(target.username),
      POSTGRES_DB: decodeURIComponent(target.pathname.slice(1)),
      BOOTSTRAP_SQL: path.join(repoRoot(), 'infra', 'postgres', 'bootstrap-service.sql'),
      ...env,
    },
  })
}

/** Whether `password` is the one behind a role's SCRAM-SHA-256 verifier (RFC 5802 / 7677). */
async function storedPasswordIs(adminUrl: string, role: string, password: string): Promise<boolean> {
  const [row] = await run<{ verifier: string }>(
    adminUrl,
    `SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = '${role}'`,
  )
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(row?.verifier ?? '')
  if (!match) throw new Error(`role ${role} has no SCRAM-SHA-256 password: ${row?.verifier}`)
  const [, iterations, salt, storedKey] = match as unknown as [string, string, string, string]
  const salted = pbkdf2Sync(password, Buffer.from(salt, 'base64'), Number(iterations), 32, 'sha256')
  const clientKey = createHmac('sha256', salted).update('Client Key').digest()
  return createHash('sha256').update(clientKey).digest('base64') === storedKey
}

beforeAll(async () => {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_bootstrap` })
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

describe('the docker-compose init script (infra/postgres/initdb)', () => {
  let scripted: ScratchDatabase
  let role: string
  beforeAll(async () => {
    await promisify(execFile)('psql', ['--version']).catch(() => {
      throw new Error(
        'psql is needed to run the init script as the postgres image does: apt-get install postgresql-client',
      )
    })
    const testRun = inject('testRun')
    scripted = await createScratchDatabase(testRun.adminUrl, { prefix: `${testRun.prefix}_initdb` })
    // A role of this run's own: roles are cluster-wide, and a password is only set when one is created.
    role = `${testRun.prefix}_svc`
    return async () => {
      await scripted.drop()
      await run(testRun.adminUrl, `DROP ROLE IF EXISTS ${role}, ${role}_app`)
    }
  })

  test('grants exactly what make bootstrap grants, and a second run changes nothing', async () => {
    const output = await runInitScript(scripted.url, { SERVICES: 'auth billing' })
    expect(output.stdout).toContain('bootstrap: roles "auth" and "auth_app", schema "auth"')
    const first = await privilegeSnapshot(scripted.url)
    await runInitScript(scripted.url, { SERVICES: 'auth billing' })
    expect(await privilegeSnapshot(scripted.url)).toEqual(first)

    await bootstrapServices(url, services, {})
    expect(await privilegeSnapshot(url)).toEqual(first)
  })

  test('sets each new role password from <ROLE>_DB_PASSWORD, as make bootstrap does', async () => {
    const testRun = inject('testRun')
    const variable = `${role.toUpperCase()}_DB_PASSWORD`
    const appVariable = `${role.toUpperCase()}_APP_DB_PASSWORD`
    await runInitScript(scripted.url, {
      SERVICES: role,
      [variable]: 'from-the-environment',
      [appVariable]: 'app-from-the-environment',
    })
    expect(await storedPasswordIs(testRun.adminUrl, role, 'from-the-environment')).toBe(true)
    expect(await storedPasswordIs(testRun.adminUrl, role, `${role}-dev-password`)).toBe(false)
    expect(await storedPasswordIs(testRun.adminUrl, `${role}_app`, 'app-from-the-environment')).toBe(true)

    // Set at creation only: a later bootstrap with another password leaves it alone.
    await bootstrapServices(scripted.url, [{ name: role }], {
      [variable]: 'another',
      [appVariable]: 'another',
    })
    expect(await storedPasswordIs(testRun.adminUrl, role, 'from-the-environment')).toBe(true)
    expect(await storedPasswordIs(testRun.adminUrl, `${role}_app`, 'app-from-the-environment')).toBe(true)
    const [owner] = await run<{ owner: string }>(
      scripted.url,
      `SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = '${role}'`,
    )
    expect(owner).toEqual({ owner: role })
  })

  test('fails loudly when SERVICES is missing', async () => {
    await expect(runInitScript(scripted.url, {})).rejects.toThrow(/SERVICES must name the services/)
  })
})

describe('bootstrapServices', () => {
  let fresh: ScratchDatabase
  let role: string
  beforeAll(async () => {
    const testRun = inject('testRun')
    fresh = await createScratchDatabase(testRun.adminUrl, { prefix: `${testRun.prefix}_report` })
    role = `${testRun.prefix}_ops`
    return async () => {
      await fresh.drop()
      await run(testRun.adminUrl, `DROP ROLE IF EXISTS ${role}, ${role}_app`)
    }
  })

  test('reports what it created, then that everything existed; the default password is <role>-dev-password', async () => {
    expect(await bootstrapServices(fresh.url, [{ name: role }], {})).toEqual([
      { service: role, createdRoles: [role, `${role}_app`], createdSchema: true },
    ])
    expect(await bootstrapServices(fresh.url, [{ name: role }], {})).toEqual([
      { service: role, createdRoles: [], createdSchema: false },
    ])
    expect(await storedPasswordIs(inject('testRun').adminUrl, role, `${role}-dev-password`)).toBe(true)
    expect(
      await storedPasswordIs(inject('testRun').adminUrl, `${role}_app`, `${role}_app-dev-password`),
    ).toBe(true)
  })
})

describe('two roles per service', () => {
  test('bootstraps started together never fail ("tuple concurrently updated"): 8 at once, 4 rounds', async () => {
    const testRun = inject('testRun')
    for (let round = 0; round < 4; round++) {
      const database = await createScratchDatabase(testRun.adminUrl, { prefix: `${testRun.prefix}_together` })
      try {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () => bootstrapServices(database.url, services, {})),
        )
        expect(results.filter((r) => r.status === 'rejected')).toEqual([])
      } finally {
        await database.drop()
      }
    }
  })

  test("the runtime role's statement_timeout is a role setting, made to match <SERVICE>_STATEMENT_TIMEOUT", async () => {
    await bootstrapServices(url, services, {})
    const asApp = withUser(url, 'auth_app', 'auth_app-dev-password')
    const timeout = async () =>
      (await run<{ t: string }>(asApp, "SELECT current_setting('statement_timeout') AS t"))[0]!.t
    expect(await timeout()).toBe('5s')
    await bootstrapServices(url, services, { AUTH_STATEMENT_TIMEOUT: '1500ms' })
    expect(await timeout()).toBe('1500ms')
    await expect(run(asApp, 'SELECT pg_sleep(3)')).rejects.toMatchObject({ code: '57014' })
    await expect(bootstrapServices(url, services, { AUTH_STATEMENT_TIMEOUT: 'soon' })).rejects.toThrow(
      /statement_timeout/,
    )
    await bootstrapServices(url, services, {})
    expect(await timeout()).toBe('5s')
  })

  test('a schema migrated before the runtime role existed: its tables get DML, its ledger only SELECT', async () => {
    const testRun = inject('testRun')
    const database = await createScratchDatabase(testRun.adminUrl, { prefix: `${testRun.prefix}_upgrade` })
    const service = `${testRun.prefix}_old`
    try {
      // What the previous bootstrap left: one owner role and its schema, migrated.
      await run(database.url, `CREATE ROLE ${service} LOGIN PASSWORD '${service}-dev-password'`)
      await run(database.url, `CREATE SCHEMA ${service} AUTHORIZATION ${service}`)
      const owner = withUser(database.url, service, `${service}-dev-password`)
      await run(owner, `CREATE TABLE ${service}.items (id serial PRIMARY KEY, name text)`)
      await run(owner, `CREATE TABLE ${service}.__drizzle_migrations (id serial PRIMARY KEY, hash text)`)

      await bootstrapServices(database.url, [{ name: service }], {})
      const app = withUser(database.url, `${service}_app`, `${service}_app-dev-password`)
      const outcome = (sql: string) =>
        run(app, sql).then(
          () => 'ok',
          (error: { code?: string }) => error.code,
        )
      expect(await outcome(`INSERT INTO ${service}.items (name) VALUES ('x')`)).toBe('ok')
      expect(await outcome(`UPDATE ${service}.items SET name = 'y'`)).toBe('ok')
      expect(await outcome(`DELETE FROM ${service}.items`)).toBe('ok')
      expect(await outcome(`SELECT count(*) FROM ${service}.__drizzle_migrations`)).toBe('ok')
      expect(await outcome(`INSERT INTO ${service}.__drizzle_migrations (hash) VALUES ('forged')`)).toBe(
        '42501',
      )
      expect(await outcome(`DROP TABLE ${service}.items`)).toBe('42501')
      // And what a later migration creates is covered by the default privileges.
      await run(owner, `CREATE TABLE ${service}.later (id int)`)
      expect(await outcome(`INSERT INTO ${service}.later VALUES (1)`)).toBe('ok')
    } finally {
      await database.drop()
      await run(testRun.adminUrl, `DROP ROLE IF EXISTS ${service}_app, ${service}`)
    }
  })
})
