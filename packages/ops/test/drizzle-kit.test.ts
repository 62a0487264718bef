// drizzle-kit's own verbs on every service, each run from the service's folder with
// its drizzle.config.ts against a database our runner migrated: which ones are safe
// and what they see (README "Working with migrations").
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { migrate, readCatalog } from '@app/migrations'
import { bootstrapServices, discoverServices, ownerUrl, type ServiceInfo } from '@app/migrations/authoring'
import { cleanEnv } from '@app/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'

const services = discoverServices()

function drizzleKit(
  service: ServiceInfo,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      path.join(service.dir, 'node_modules', '.bin', 'drizzle-kit'),
      args,
      { cwd: service.dir, env: cleanEnv(env) },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) || 1 : 0, output: `${stdout}${stderr}` }),
    )
  })
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

let database: ScratchDatabase
let workdir: string
beforeAll(async () => {
  const run = inject('testRun')
  database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_drizzle_kit` })
  await bootstrapServices(database.url, services, {})
  for (const service of services) {
    await migrate({
      url: ownerUrl(database.url, service, {}),
      schema: service.schema,
      migrationsFolder: service.migrationsFolder,
    })
  }
  workdir = mkdtempSync(path.join(tmpdir(), 'drizzle-kit-'))
})
afterAll(async () => {
  rmSync(workdir, { recursive: true, force: true })
  await database?.drop()
})

describe.each(services)('$name', (service) => {
  const ledger = () =>
    query(
      database.url,
      `SELECT id, hash, created_at, applied_at FROM "${service.schema}".__drizzle_migrations ORDER BY id`,
    )
  const owner = () => ({ MIGRATION_DATABASE_URL: ownerUrl(database.url, service, {}) })

  test('migrate, as the owner role: refused before it reads the ledger (CREATE SCHEMA IF NOT EXISTS needs CREATE on the database); nothing changes', async () => {
    const before = {
      ledger: await ledger(),
      catalog: await readCatalog({ url: database.url, schema: service.schema }),
    }
    const result = await drizzleKit(service, ['migrate'], owner())
    expect(result.code, result.output).not.toBe(0)
    expect(await ledger()).toEqual(before.ledger)
    expect(await readCatalog({ url: database.url, schema: service.schema })).toEqual(before.catalog)
    // drizzle-kit says nothing; this is why: PostgreSQL checks the privilege first.
    await expect(
      query(owner().MIGRATION_DATABASE_URL, `CREATE SCHEMA IF NOT EXISTS "${service.schema}"`),
    ).rejects.toThrow(/permission denied for database/)
  })

  test('migrate, by a role that may create schemas: reads our ledger (applied_at and all), finds it complete, applies nothing', async () => {
    const before = await ledger()
    expect(before.length).toBeGreaterThan(0)
    const role = `"${service.name}"`
    await query(database.url, `GRANT CREATE ON DATABASE "${database.name}" TO ${role}`)
    try {
      const result = await drizzleKit(service, ['migrate'], owner())
      expect(result.code, result.output).toBe(0)
      expect(result.output).toContain('migrations applied successfully')
    } finally {
      await query(database.url, `REVOKE CREATE ON DATABASE "${database.name}" FROM ${role}`)
    }
    expect(await ledger()).toEqual(before)
  })

  test('check: the migrations folder is consistent', async () => {
    const result = await drizzleKit(service, ['check'], {})
    expect(result.code, result.output).toBe(0)
    expect(result.output).toContain("Everything's fine")
  })

  test("pull, into a scratch folder with a config extending the service's: only its own schema, the migrations folder untouched", async () => {
    const scratch = mkdtempSync(path.join(workdir, `${service.name}-`))
    const config = path.join(scratch, 'drizzle.config.ts')
    writeFileSync(
      config,
      `import config from '${path.join(service.dir, 'drizzle.config.ts')}'\nexport default { ...config, out: '${path.join(scratch, 'out')}' }\n`,
    )
    const folder = () => readdirSync(service.migrationsFolder, { recursive: true }).sort()
    const before = folder()
    const result = await drizzleKit(service, ['pull', '--config', config], owner())
    expect(result.code, result.output).toBe(0)
    expect(folder()).toEqual(before)
    const pulled = readdirSync(path.join(scratch, 'out'))
    expect(pulled).toContain('schema.ts')
    const schema = readFileSync(path.join(scratch, 'out', 'schema.ts'), 'utf8')
    const schemas = [...schema.matchAll(/pgSchema\("([^"]+)"\)/g)].map((m) => m[1])
    expect(schemas).toEqual([service.schema])
    // Its tables, the ledger included, and nothing of another service.
    expect(schema).toContain(`${service.schema}.table("__drizzle_migrations"`)
  })
})
