// make dev and make run, for real: built services started as `node dist/server.js`,
// an embedded PostgreSQL in a temporary data directory (or the test run's server
// as DATABASE_URL), free ports, and the stop paths a user meets.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { freePort } from '@app/db/embedded'
import { discoverServices } from '@app/migrations/authoring'
import { cleanEnv, descendants, MakeJob, make, withoutDocker } from '@app/testkit'
import pg from 'pg'
import { afterEach, beforeAll, describe, expect, inject, test } from 'vitest'

const services = discoverServices().map((s) => s.name)

/** Free ports for the services besides auth and billing (make new-service adds them), by name. */
async function otherPorts(): Promise<Record<string, number>> {
  const ports: Record<string, number> = {}
  for (const name of services) if (name !== 'auth' && name !== 'billing') ports[name] = await freePort()
  return ports
}
const portVariables = (ports: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(ports).map(([name, port]) => [`${name.toUpperCase()}_PORT`, String(port)]),
  )

const jobs: MakeJob[] = []
function start(args: string[], env: NodeJS.ProcessEnv): MakeJob {
  const job = new MakeJob(args, env)
  jobs.push(job)
  return job
}
afterEach(async () => {
  for (const job of jobs.splice(0)) await job.kill()
})

async function readyz(port: number): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`)
  return { status: response.status, body: await response.json() }
}

async function refused(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/readyz`).then(
    () => false,
    () => true,
  )
}

/** The lines ops printed itself behind `prefix` (dev, run), in order. */
function linesOf(prefix: string, output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith(`${prefix} `))
    .map((line) => line.replace(new RegExp(`^${prefix}\\s+`), ''))
}
const devLines = (output: string) => linesOf('dev', output)

describe('make dev on an empty machine state (embedded PostgreSQL)', () => {
  let parent: string
  let env: NodeJS.ProcessEnv
  let ports: { db: number; auth: number; billing: number }
  beforeAll(async () => {
    parent = mkdtempSync(path.join(tmpdir(), 'make-dev-'))
    // As root the server runs as `postgres`, which must reach its data directory.
    chmodSync(parent, 0o755)
    ports = { db: await freePort(), auth: await freePort(), billing: await freePort() }
    env = cleanEnv({
      DEV_DB_DIR: path.join(parent, 'postgres'),
      DEV_DB_PORT: String(ports.db),
      AUTH_PORT: String(ports.auth),
      BILLING_PORT: String(ports.billing),
      ...portVariables(await otherPorts()),
    })
    return () => rmSync(parent, { recursive: true, force: true })
  })

  test('comes up, serves both /readyz, and Ctrl-C stops the services, then the database', async () => {
    const dev = start(['dev'], env)
    await dev.waitFor(/^dev\s+ready: /m)
    for (const port of [ports.auth, ports.billing]) {
      expect(await readyz(port)).toEqual({
        status: 200,
        body: { status: 'ready', checks: { database: 'ok', migrations: 'ok' } },
      })
    }
    const started = devLines(dev.output)
    expect(started).toContain(
      `creating the embedded development database in ${path.join(parent, 'postgres')}`,
    )
    expect(started).toContain(
      `database postgres://postgres:***@127.0.0.1:${ports.db}/app (embedded, started here, data in ${path.join(parent, 'postgres')})`,
    )
    expect(dev.output).not.toContain('-dev-password')
    expect(dev.output).not.toContain('postgres:postgres@')
    expect(started.find((line) => line.startsWith('ready: '))).toContain(
      `ready: http://127.0.0.1:${ports.auth}/docs (auth)  http://127.0.0.1:${ports.billing}/docs (billing)`,
    )
    // The services' JSON logs arrive readable, behind their names.
    expect(dev.output).toMatch(/^auth\s+\d\d:\d\d:\d\d INFO {2}auth: ready on /m)

    dev.interrupt()
    await dev.exited
    const stopped = devLines(dev.output)
    const stopOrder = [
      'auth: stopped (exit code 0)',
      'billing: stopped (exit code 0)',
      'database stopped',
    ].map((line) => stopped.indexOf(line))
    expect(stopOrder.every((index) => index > 0)).toBe(true)
    expect(stopOrder[2]).toBeGreaterThan(Math.max(stopOrder[0]!, stopOrder[1]!))
    expect(await refused(ports.auth)).toBe(true)
    expect(await refused(ports.billing)).toBe(true)
    expect(existsSync(path.join(parent, 'postgres', 'postmaster.pid'))).toBe(false)
    expect(existsSync(path.join(parent, 'postgres', 'PG_VERSION'))).toBe(true)
  })

  test('keeps its data for the next run, and stops cleanly on SIGTERM', async () => {
    const dev = start(['dev'], env)
    await dev.waitFor(/^dev\s+ready: /m)
    const lines = devLines(dev.output)
    expect(lines).toContain(`starting the embedded development database (${path.join(parent, 'postgres')})`)
    expect(lines).toContain(
      'auth: role auth existed (password unchanged), role auth_app existed (password unchanged), schema existed, owner auth, auth_app DML only; no CREATE on public',
    )
    expect((await readyz(ports.billing)).status).toBe(200)

    dev.child.kill('SIGTERM')
    await dev.exited
    expect(devLines(dev.output).at(-1)).toBe('database stopped')
    expect(existsSync(path.join(parent, 'postgres', 'postmaster.pid'))).toBe(false)
  })

  test('make clean says what it removes and removes it', async () => {
    const result = await make(['clean'], withoutDocker(env))
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(
      `clean: removing ${path.join(parent, 'postgres')} (the embedded development database, all its data)`,
    )
    expect(existsSync(path.join(parent, 'postgres'))).toBe(false)
  })
})

describe('make dev and make run on an admin DATABASE_URL', () => {
  let database: ScratchDatabase
  let env: NodeJS.ProcessEnv
  beforeAll(async () => {
    const run = inject('testRun')
    database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_dev` })
    env = cleanEnv({ DATABASE_URL: database.url })
    return () => database.drop()
  })

  test('services own their tables and see only their own URL; when one dies, everything stops', async () => {
    const ports: Record<string, number> = {
      auth: await freePort(),
      billing: await freePort(),
      ...(await otherPorts()),
    }
    // On make's command line this time: make hands its command line down in MAKEFLAGS too.
    const dev = start(['dev', `DATABASE_URL=${database.url}`], { ...cleanEnv(), ...portVariables(ports) })
    await dev.waitFor(/^dev\s+ready: /m)
    expect(devLines(dev.output)).toContain(
      `database ${database.url.replace(/:[^:@/]*@/, ':***@')} (from DATABASE_URL)`,
    )

    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    const { rows } = await client
      .query<{ schemaname: string; tableowner: string }>(
        "SELECT schemaname, tableowner FROM pg_tables WHERE schemaname IN ('auth', 'billing')",
      )
      .finally(() => client.end())
    expect(rows.length).toBeGreaterThan(2)
    for (const row of rows) expect(row.tableowner).toBe(row.schemaname)

    const servers = (await descendants(dev.child.pid!)).filter((p) => p.args.endsWith('dist/server.js'))
    expect(servers).toHaveLength(services.length)
    const environments = servers.map((p) =>
      Object.fromEntries(
        readFileSync(`/proc/${p.pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
      ),
    )
    const urls = environments.map((e) => new URL(e.DATABASE_URL!))
    // Requests as the runtime role, migrations as the schema's owner, and no other credential.
    expect(urls.map((u) => u.username).sort()).toEqual(services.map((s) => `${s}_app`))
    expect(environments.map((e) => new URL(e.MIGRATION_DATABASE_URL!).username).sort()).toEqual(services)
    for (const [i, e] of environments.entries()) {
      const others = Object.entries(e).filter(
        ([key, value]) => !/^(MIGRATION_)?DATABASE_URL$/.test(key) && /postgres(ql)?:\/\//.test(value),
      )
      expect(others).toEqual([])
      expect(Object.keys(e).filter((key) => /^PG|_DB_PASSWORD$|^OPS_/.test(key))).toEqual([])
      expect(e.PORT).toBe(String(ports[urls[i]!.username.replace(/_app$/, '')]))
    }

    const auth = servers[urls.findIndex((u) => u.username === 'auth_app')]!
    process.kill(auth.pid, 'SIGKILL')
    const exit = await dev.exited
    expect(exit.code).not.toBe(0)
    const lines = devLines(dev.output)
    expect(lines).toContain('auth stopped on its own (killed by SIGKILL): stopping everything')
    expect(lines).toContain('billing: stopped (exit code 0)')
    expect(await refused(ports.billing!)).toBe(true)
  })

  test('make run starts instances side by side, each on its PORT', async () => {
    const ports = [await freePort(), await freePort()]
    const instances = ports.map((port) => start(['run', 'svc=auth'], { ...env, PORT: String(port) }))
    await Promise.all(instances.map((job) => job.waitFor(/^auth\s+.*auth: ready on /m)))
    for (const port of ports) expect((await readyz(port)).status).toBe(200)
    for (const job of instances) {
      expect(job.output).toContain(`auth: node dist/server.js in services/auth, PORT=`)
      job.interrupt()
    }
    for (const job of instances) await job.exited
    for (const [i, job] of instances.entries()) {
      expect(linesOf('run', job.output).at(-1)).toBe('auth: stopped (exit code 0)')
      expect(await refused(ports[i]!)).toBe(true)
    }
  })
})
