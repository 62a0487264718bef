// The Makefile as users meet it: the real targets, run with make from the
// repository root, against a real PostgreSQL (a fresh database of the test run's
// server, passed as the admin DATABASE_URL).
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase, type ScratchDatabase, withUser } from '@app/db'
import { freePort } from '@app/db/embedded'
import { discoverServices } from '@app/migrations/authoring'
import { cleanEnv, make, opsErrors, withoutDocker } from '@app/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'

const services = discoverServices()
const serviceList = services.map((s) => s.name).join(', ')

function journalTags(service: string): string[] {
  const folder = services.find((s) => s.name === service)!.migrationsFolder
  const journal = JSON.parse(readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8'))
  return journal.entries.map((entry: { tag: string }) => entry.tag)
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

describe('make help', () => {
  test('is the default target and lists every verb on one line each', async () => {
    const result = await make([])
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    const targets = lines.map((line) => /^\s+make (\S+)\s+\S/.exec(line)?.[1])
    expect(targets).not.toContain(undefined)
    expect(new Set(targets).size).toBe(targets.length)
    for (const verb of [
      'help',
      'install',
      'build',
      'dev',
      'start-db',
      'stop',
      'clean',
      'bootstrap',
      'migrate',
      'add-migration',
      'status',
      'rollback',
      'check',
      'run',
      'admin',
      'test',
      'lint',
      'typecheck',
      'bench',
    ]) {
      expect(targets).toContain(verb)
    }
  })
})

describe('bad arguments', () => {
  test('a missing svc is a one-line error listing the services', async () => {
    const result = await make(['migrate'])
    expect(result.code).not.toBe(0)
    expect(opsErrors(result)).toEqual([`error: svc is required: svc=<service>, one of: ${serviceList}`])
  })

  test('an unknown svc is a one-line error listing the services', async () => {
    for (const target of ['status', 'run']) {
      const result = await make([target, 'svc=nope'])
      expect(result.code).not.toBe(0)
      expect(opsErrors(result)).toEqual([`error: unknown service 'nope': svc must be one of: ${serviceList}`])
    }
  })

  test('add-migration without msg is an error', async () => {
    const result = await make(['add-migration', 'svc=auth'])
    expect(result.code).not.toBe(0)
    expect(opsErrors(result).join('\n')).toMatch(/msg is required/)
  })

  describe('values with shell and make syntax', () => {
    let markers: string
    beforeAll(() => {
      markers = mkdtempSync(path.join(tmpdir(), 'make-hostile-'))
      return () => rmSync(markers, { recursive: true, force: true })
    })
    const hostile = (dir: string) =>
      `$(shell touch ${dir}/make) \`touch ${dir}/backquote\` $$(touch ${dir}/dollar); touch ${dir}/semicolon #`

    test('reach ops as the literal text and run nothing', async () => {
      const value = hostile(markers)
      const status = await make(['status', `svc=${value}`])
      expect(opsErrors(status)).toEqual([
        `error: unknown service '${value}': svc must be one of: ${serviceList}`,
      ])
      const addMigration = await make(['add-migration', 'svc=nope', `msg=${value}`])
      expect(addMigration.code).not.toBe(0)
      const url = await make(['status', 'svc=nope', `DATABASE_URL=postgres://u:${value}@127.0.0.1:1/db`])
      expect(url.code).not.toBe(0)
      expect(readdirSync(markers)).toEqual([])
    })
  })
})

describe('make start-db', () => {
  test('without a reachable Docker engine says so in one line, points to make dev, and fails', async () => {
    const result = await make(['start-db'], withoutDocker(cleanEnv()))
    expect(result.code).not.toBe(0)
    expect(result.stdout).toBe('')
    expect(opsErrors(result)).toEqual([
      'start-db: no Docker engine is reachable (docker info failed); make dev runs the whole stack without Docker',
    ])
  })
})

describe('bootstrap, migrate and status on an admin DATABASE_URL', () => {
  let database: ScratchDatabase
  let env: NodeJS.ProcessEnv
  beforeAll(async () => {
    const run = inject('testRun')
    database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_make` })
    env = cleanEnv({ DATABASE_URL: database.url })
  })
  afterAll(() => database?.drop())

  test('make bootstrap creates every schema; a second run finds them in place', async () => {
    const first = await make(['bootstrap'], env)
    expect(first.code, first.stderr).toBe(0)
    for (const service of services) {
      // Roles are cluster-wide: another suite on the same server may have created them.
      const role = (name: string) => `role ${name} (created|existed \\(password unchanged\\))`
      expect(first.stdout).toMatch(
        new RegExp(
          `^${service.name}: ${role(service.name)}, ${role(`${service.name}_app`)}, schema created`,
          'm',
        ),
      )
    }
    const second = await make(['bootstrap'], env)
    expect(second.code, second.stderr).toBe(0)
    for (const service of services) {
      expect(second.stdout).toContain(
        `${service.name}: role ${service.name} existed (password unchanged), role ${service.name}_app existed (password unchanged), schema existed`,
      )
    }
  })

  test('make migrate applies each migration as the service role, printing each one', async () => {
    for (const service of services) {
      const result = await make(['migrate', `svc=${service.name}`], env)
      expect(result.code, result.stderr).toBe(0)
      for (const tag of journalTags(service.name)) expect(result.stdout).toContain(`applied ${tag}.sql`)
    }
    const owners = await query<{ schemaname: string; tableowner: string }>(
      database.url,
      `SELECT schemaname, tableowner FROM pg_tables WHERE schemaname IN (${services.map((s) => `'${s.schema}'`).join(', ')})`,
    )
    expect(owners.length).toBeGreaterThan(services.length)
    for (const { schemaname, tableowner } of owners) expect(tableowner).toBe(schemaname)

    const again = await make(['migrate', 'svc=auth'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).not.toMatch(/applied \d{4}_/)
  })

  test('make status lists every migration as applied', async () => {
    const result = await make(['status', 'svc=billing'], env)
    expect(result.code, result.stderr).toBe(0)
    const tags = journalTags('billing')
    for (const tag of tags) expect(result.stdout).toContain(tag)
    expect(result.stdout).toContain(`billing: ${tags.length} applied, 0 pending`)
  })

  test('make admin gives a user the admin role, once; an unknown user is an error naming it', async () => {
    await query(
      database.url,
      `INSERT INTO auth.users (username, email, password_hash) VALUES ('make_admin_alice', 'alice@example.com', 'x')`,
    )
    const roleOf = async () =>
      (
        await query<{ role: string }>(
          database.url,
          `SELECT role FROM auth.users WHERE username = 'make_admin_alice'`,
        )
      )[0]!.role
    expect(await roleOf()).toBe('user')

    const first = await make(['admin', 'user=make_admin_alice'], env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(
      /^auth: make_admin_alice is now an admin on .*; their next login gets the admin scopes/m,
    )
    expect(await roleOf()).toBe('admin')

    const second = await make(['admin', 'user=make_admin_alice'], env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/^auth: make_admin_alice is already an admin on .*; nothing changed$/m)
    expect(await roleOf()).toBe('admin')

    // Text a shell would expand reaches ops verbatim, and the error names it.
    const unknown = await make(['admin', 'user=nobody_$(id)'], env)
    expect(unknown.code).not.toBe(0)
    expect(opsErrors(unknown)).toEqual([
      "error: auth has no user named 'nobody_$(id)': register it first (POST /auth/users)",
    ])
    const missing = await make(['admin'], env)
    expect(missing.code).not.toBe(0)
    expect(opsErrors(missing)).toEqual(['error: user is required: make admin user=<username>'])
  })

  test("each service's role is denied the other's tables", async () => {
    const billing = withUser(database.url, 'billing', 'billing-dev-password')
    const auth = withUser(database.url, 'auth', 'auth-dev-password')
    await expect(query(billing, 'SELECT * FROM auth.users')).rejects.toThrow(
      /permission denied for schema auth/,
    )
    const billingTables = await query<{ tablename: string }>(
      database.url,
      `SELECT tablename FROM pg_tables WHERE schemaname = 'billing'`,
    )
    expect(billingTables.length).toBeGreaterThan(1)
    for (const { tablename } of billingTables) {
      await expect(query(auth, `SELECT * FROM billing."${tablename}"`)).rejects.toThrow(
        /permission denied for schema billing/,
      )
    }
  })
})

describe('the same verbs on the embedded development database (no DATABASE_URL)', () => {
  let parent: string
  let env: NodeJS.ProcessEnv
  beforeAll(async () => {
    parent = mkdtempSync(path.join(tmpdir(), 'make-embedded-'))
    // As root the server runs as `postgres`, which must reach its data directory.
    chmodSync(parent, 0o755)
    env = cleanEnv({ DEV_DB_DIR: path.join(parent, 'postgres'), DEV_DB_PORT: String(await freePort()) })
    return () => rmSync(parent, { recursive: true, force: true })
  })

  test('make migrate works on a fresh clone, make status finds the result, make clean removes it', async () => {
    const migrate = await make(['migrate', 'svc=billing'], env)
    expect(migrate.code, migrate.stderr).toBe(0)
    expect(migrate.stdout).toContain(
      `creating the embedded development database in ${path.join(parent, 'postgres')}`,
    )
    for (const tag of journalTags('billing')) expect(migrate.stdout).toContain(`applied ${tag}.sql`)

    const status = await make(['status', 'svc=billing'], env)
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toContain(
      `starting the embedded development database (${path.join(parent, 'postgres')})`,
    )
    expect(status.stdout).toContain(`billing: ${journalTags('billing').length} applied, 0 pending`)

    // make admin, like make migrate, uses the embedded database when nothing is configured.
    expect((await make(['migrate', 'svc=auth'], env)).code).toBe(0)
    const admin = await make(['admin', 'user=nobody'], env)
    expect(admin.code).not.toBe(0)
    expect(admin.stdout).toContain(
      `starting the embedded development database (${path.join(parent, 'postgres')})`,
    )
    expect(opsErrors(admin)).toEqual([
      "error: auth has no user named 'nobody': register it first (POST /auth/users)",
    ])

    const clean = await make(['clean'], withoutDocker(env))
    expect(clean.code, clean.stderr).toBe(0)
    expect(clean.stdout).toContain('clean: no embedded development database is running')
    expect(clean.stdout).toContain(`clean: removing ${path.join(parent, 'postgres')}`)
    expect(existsSync(path.join(parent, 'postgres'))).toBe(false)
  })
})
