// `make new-service` as a user runs it, in a copy of this checkout (its files as
// git sees them, including uncommitted ones, installed from pnpm's store and built
// with turbo's cache): then, with no edit, what the new service must do straight
// away: format and types as generated, make run and its /docs, make check, its own
// tests, make dev beside the others; its compose and Kubernetes entries pass those
// files' own tests. And what it refuses, writing nothing.
import { execFile } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { freePort } from '@app/db/embedded'
import { repoRoot } from '@app/migrations/authoring'
import { cleanEnv, MakeJob, type MakeResult, make, opsErrors, registeredUser } from '@app/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest'

const exec = promisify(execFile)
const name = 'shop'
const TEMPLATE_CLIENT_TYPES = path.join(
  repoRoot(),
  'packages/ops/templates/new-service/files/services/__name__/client/openapi.d.ts',
)

let parent: string
let root: string
let database: ScratchDatabase
let env: NodeJS.ProcessEnv
let port: number
const jobs: MakeJob[] = []

/** `pnpm <args>` in the copy, with its pinned pnpm first on PATH (turbo looks it up there); rejects with the output. */
async function pnpm(args: string[]): Promise<string> {
  const bin = path.join(root, '.tools', 'node_modules', '.bin')
  try {
    const { stdout, stderr } = await exec(path.join(bin, 'pnpm'), args, {
      cwd: root,
      env: { ...env, PATH: `${bin}:${env.PATH}` },
      maxBuffer: 32 * 1024 * 1024,
    })
    return stdout + stderr
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`pnpm ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`)
  }
}

/** The files git would put in a checkout (committed or not, ignored ones left out) as they are now. */
async function copyCheckout(from: string, to: string): Promise<void> {
  const { stdout } = await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: from,
    maxBuffer: 16 * 1024 * 1024,
  })
  for (const file of new Set(stdout.split('\0').filter(Boolean))) {
    if (!existsSync(path.join(from, file))) continue // deleted, not yet committed
    mkdirSync(path.dirname(path.join(to, file)), { recursive: true })
    copyFileSync(path.join(from, file), path.join(to, file))
  }
  // The pinned pnpm (make would download it), and turbo's cache: what this checkout
  // built already is restored, not rebuilt; whatever the new service changes is built.
  cpSync(path.join(from, '.tools'), path.join(to, '.tools'), { recursive: true, verbatimSymlinks: true })
  linkTree(path.join(from, '.turbo', 'cache'), path.join(to, '.turbo', 'cache'))
}

/**
 * Hard links (turbo never rewrites a cache entry, it adds new ones), so a large cache
 * costs nothing to bring along; a copy where links cannot be made.
 */
function linkTree(from: string, to: string): void {
  if (!existsSync(from)) return
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const source = path.join(entry.parentPath, entry.name)
    const target = path.join(to, path.relative(from, source))
    mkdirSync(path.dirname(target), { recursive: true })
    try {
      linkSync(source, target)
    } catch {
      copyFileSync(source, target)
    }
  }
}

const run = (args: string[], extra: Record<string, string> = {}): Promise<MakeResult> =>
  make(args, { ...env, ...extra }, root)

function start(args: string[], extra: Record<string, string> = {}): MakeJob {
  const job = new MakeJob(args, { ...env, ...extra }, root)
  jobs.push(job)
  return job
}

async function status(url: string, init?: RequestInit): Promise<number> {
  return fetch(url, init).then(
    (response) => response.status,
    () => 0,
  )
}

async function untilReady(url: string, job: MakeJob): Promise<void> {
  const deadline = Date.now() + 60_000
  while ((await status(url)) !== 200) {
    if (job.child.exitCode !== null) throw new Error(`make exited before ${url} was ready:\n${job.output}`)
    if (Date.now() > deadline) throw new Error(`${url} not ready within 60 s:\n${job.output}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

beforeAll(async () => {
  parent = mkdtempSync(path.join(tmpdir(), 'new-service-'))
  // As root the embedded PostgreSQL runs as `postgres`, which must be able to enter it.
  chmodSync(parent, 0o755)
  root = path.join(parent, 'repo')
  await copyCheckout(repoRoot(), root)
  const testRun = inject('testRun')
  database = await createScratchDatabase(testRun.adminUrl, { prefix: `${testRun.prefix}_new_service` })
  env = cleanEnv({
    DATABASE_URL: database.url,
    // The service's own tests use the same server as this run (a database each).
    TEST_DATABASE_URL: testRun.adminUrl,
    CI: 'true',
  })
  // What `make install` does on a fresh clone, from pnpm's store (no download).
  await pnpm(['install', '--offline', '--frozen-lockfile'])
  writeFileSync(path.join(root, 'node_modules', '.install-stamp'), '')
}, 180_000)

afterEach(async () => {
  for (const job of jobs.splice(0)) await job.kill()
})

afterAll(async () => {
  await database?.drop()
  if (parent) rmSync(parent, { recursive: true, force: true })
})

describe(`make new-service name=${name}`, () => {
  test('creates the service, its first migration with its down, and its place in the shared files', async () => {
    const result = await run(['new-service', `name=${name}`])
    expect(result.code, result.stdout + result.stderr).toBe(0)
    port = Number(/^shop: port (\d+),/m.exec(result.stdout)?.[1])
    expect(port).toBeGreaterThan(5009)

    const service = path.join(root, 'services', name)
    const drizzle = readdirSync(path.join(service, 'drizzle'), { recursive: true }).map(String).sort()
    expect(drizzle).toEqual([
      '0000_init.down.sql',
      '0000_init.sql',
      'meta',
      'meta/0000_snapshot.json',
      'meta/_journal.json',
    ])
    expect(readFileSync(path.join(service, 'drizzle', '0000_init.sql'), 'utf8')).toContain(
      'CREATE TABLE "shop"."items"',
    )
    expect(readFileSync(path.join(service, 'drizzle', '0000_init.down.sql'), 'utf8')).toContain(
      'DROP TABLE "shop"."items"',
    )
    expect(readFileSync(path.join(service, 'src', 'config.ts'), 'utf8')).toContain(
      `serviceEnv({ port: ${port} })`,
    )
    expect(readFileSync(path.join(root, 'packages/ops/src/stack/ports.ts'), 'utf8')).toContain(
      `  shop: ${port},\n`,
    )
    expect(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')).toMatch(
      /SERVICES: auth billing shop\n/,
    )
    // auth's tokens name it among their audiences, with no setting to change.
    expect(readFileSync(path.join(root, 'services/auth/src/config.ts'), 'utf8')).toContain(
      "export const DEFAULT_TOKEN_AUDIENCES = 'auth,billing,shop'\n",
    )
    expect(readdirSync(path.join(root, 'infra/k8s/base/shop')).sort()).toEqual([
      'deployment.yaml',
      'migration-job.yaml',
      'pdb.yaml',
      'service.yaml',
    ])
    // Linked into the workspace, and in the lockfile make's frozen install checks.
    expect(readFileSync(path.join(root, 'pnpm-lock.yaml'), 'utf8')).toContain('\n  services/shop:\n')
    expect(existsSync(path.join(service, 'node_modules', '.bin', 'drizzle-kit'))).toBe(true)
  }, 180_000)

  test('passes biome and tsc as generated', async () => {
    // What it wrote or edited; the rest of the checkout is make lint's business.
    await pnpm([
      'exec',
      'biome',
      'check',
      'services/shop',
      'infra/k8s/base',
      'infra/k8s/overlays',
      'docker-compose.yml',
      'packages/ops/src/stack/ports.ts',
      'services/auth/src/config.ts',
    ])
    // As make typecheck does: turbo builds what it depends on first.
    await pnpm(['turbo', 'run', 'typecheck', '--filter=@app/shop', '--output-logs=errors-only'])
  }, 120_000)

  test('docker-compose.yml and the Kubernetes manifests, with it, pass their own tests', async () => {
    await Promise.all([
      pnpm(['--filter', '@app/ops', 'exec', 'vitest', 'run', 'test/compose.test.ts']),
      pnpm([
        '--filter',
        '@app/k8s',
        'exec',
        'vitest',
        'run',
        'test/invariants.test.ts',
        'test/schema.test.ts',
      ]),
    ])
  }, 120_000)

  test(`make run svc=${name}: ready, its docs served, its API answering`, async () => {
    const listen = await freePort()
    const job = start(['run', `svc=${name}`, `PORT=${listen}`])
    await untilReady(`http://127.0.0.1:${listen}/readyz`, job)
    const docs = await fetch(`http://127.0.0.1:${listen}/docs`)
    expect(docs.status).toBe(200)
    expect(await docs.text()).toContain('swagger')
    const document = (await (await fetch(`http://127.0.0.1:${listen}/openapi.json`)).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(document.paths)).toContain('/shop/items/{id}')
    const items = await fetch(`http://127.0.0.1:${listen}/shop/items`)
    expect(await items.json()).toEqual({ items: [], nextCursor: null })
    job.interrupt()
    await job.exited
    expect(job.output).toMatch(/^run\s+shop: stopped \(exit code 0\)$/m)
  }, 180_000)

  test('make check: models, migrations and the live schema (migrated by make run) all pass', async () => {
    const result = await run(['check'])
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain('shop: models match 0000_init.sql')
    expect(result.stdout).toContain('shop: 1 migration(s) and 1 down(s) pass the lint')
    expect(result.stdout).toMatch(/shop: schema "shop" on .* matches its 1 applied migration\(s\)/)
    expect(result.stdout).toContain('check: all passed')
  }, 120_000)

  test('its own tests pass: routes on a real database, the round trip, the contract and its client types', async () => {
    // The template's client/openapi.d.ts follows what the service kit documents on
    // every route; when the kit changes it, this rewrites the template's copy.
    if (process.env.UPDATE_NEW_SERVICE_TEMPLATE === '1') {
      await pnpm(['--filter', '@app/shop', 'exec', 'vitest', 'run', 'test/contract.test.ts', '--update'])
      const types = readFileSync(path.join(root, 'services/shop/client/openapi.d.ts'), 'utf8')
      writeFileSync(TEMPLATE_CLIENT_TYPES, types.replaceAll('shop', '__name__'))
    }
    const output = await pnpm(['--filter', '@app/shop', 'test']).catch((error: Error) => {
      if (!error.message.includes('openapi.d.ts')) throw error
      throw new Error(
        `${error.message}\nThe template's client types are stale: UPDATE_NEW_SERVICE_TEMPLATE=1 pnpm --filter @app/ops exec vitest run test/new-service.test.ts`,
      )
    })
    expect(output).toMatch(/Test Files {2}3 passed/)
  }, 120_000)

  test('make dev runs it beside auth and billing; auth answers CORS for its docs page', async () => {
    const ports = { auth: await freePort(), billing: await freePort(), shop: await freePort() }
    const dev = start(['dev'], {
      AUTH_PORT: String(ports.auth),
      BILLING_PORT: String(ports.billing),
      SHOP_PORT: String(ports.shop),
    })
    await dev.waitFor(/^dev\s+ready: .*\(shop\)/m)
    for (const listen of Object.values(ports))
      expect(await status(`http://127.0.0.1:${listen}/readyz`)).toBe(200)
    // shop's Authorize form posts to auth from shop's origin.
    const preflight = await fetch(`http://127.0.0.1:${ports.auth}/auth/token`, {
      method: 'OPTIONS',
      headers: {
        origin: `http://localhost:${ports.shop}`,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-requested-with',
      },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBe(`http://localhost:${ports.shop}`)
    // A real token from auth opens shop's writes: its aud names shop, its iss is the one shop expects.
    const user = await registeredUser({ authUrl: `http://127.0.0.1:${ports.auth}` })
    const created = await fetch(`http://127.0.0.1:${ports.shop}/shop/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from a real token' }),
    })
    expect(created.status, await created.clone().text()).toBe(201)
    dev.interrupt()
    await dev.exited
    for (const service of Object.keys(ports))
      expect(dev.output).toMatch(new RegExp(`^dev\\s+${service}: stopped \\(exit code 0\\)$`, 'm'))
  }, 180_000)
})

describe('what make new-service refuses: one line, exit 2, nothing written', () => {
  const snapshot = () => ({
    services: readdirSync(path.join(root, 'services')).sort(),
    compose: readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'),
    ports: readFileSync(path.join(root, 'packages/ops/src/stack/ports.ts'), 'utf8'),
  })
  /** ops itself, as make runs it (make's part is the first case). */
  const ops = (vars: Record<string, string>) =>
    new Promise<MakeResult>((resolve) =>
      execFile(
        process.execPath,
        [path.join(root, 'packages/ops/dist/cli.js'), 'new-service'],
        { cwd: root, env: { ...env, ...vars } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      ),
    )

  test('text that would be shell syntax is only a name (refused), through make', async () => {
    const before = snapshot()
    const marker = path.join(parent, 'pwned')
    const result = await run(['new-service', `name=x$(touch ${marker})`])
    expect(result.code).toBe(2)
    expect(opsErrors(result)).toEqual([
      expect.stringMatching(/^error: "x\$\(touch .*" cannot name a service: /),
    ])
    expect(existsSync(marker)).toBe(false)
    expect(snapshot()).toEqual(before)
  }, 60_000)

  test.each([
    [{}, /^error: name is required: make new-service name=<name> \[port=<port>\]/],
    [{ OPS_NAME: 'Shop' }, /^error: "Shop" cannot name a service: use a lower-case letter/],
    [{ OPS_NAME: 'order_items' }, /^error: "order_items" cannot name a service/],
    [{ OPS_NAME: 'my-service' }, /^error: "my-service" cannot name a service/],
    [{ OPS_NAME: 'public' }, /^error: "public" is reserved: it is PostgreSQL's default schema$/],
    [{ OPS_NAME: 'postgres' }, /^error: "postgres" is reserved: it is the admin role/],
    [
      { OPS_NAME: 'pg_stats' },
      /^error: "pg_stats" is reserved: PostgreSQL keeps schema and role names pg_\*/,
    ],
    [
      { OPS_NAME: 'billing_app' },
      /^error: "billing_app" is reserved: <service>_app is each service's runtime role$/,
    ],
    [
      { OPS_NAME: 'information_schema' },
      /^error: "information_schema" is reserved: it is PostgreSQL's catalog$/,
    ],
    [{ OPS_NAME: 'user' }, /^error: "user" is reserved: a PostgreSQL key word/],
    [{ OPS_NAME: 'auth' }, /^error: "auth" exists already: services\/auth is there$/],
    [{ OPS_NAME: 'shop' }, /^error: "shop" exists already: services\/shop is there$/],
    [{ OPS_NAME: 'testkit' }, /^error: "testkit" is taken: the workspace has a package @app\/testkit$/],
    [{ OPS_NAME: 'cart', OPS_PORT: '5009' }, /^error: port 5009 is taken: it is billing's; choose another/],
    [{ OPS_NAME: 'cart', OPS_PORT: '8080' }, /^error: port 8080 is taken: it is docker-compose's adminer/],
    [{ OPS_NAME: 'cart', OPS_PORT: '80' }, /^error: port must be a TCP port from 1024 to 65535/],
    [
      { OPS_NAME: 'cart', OPS_PORT: 'http' },
      /^error: port must be a TCP port from 1024 to 65535 .*got "http"$/,
    ],
  ])('%o', async (vars, message) => {
    const before = snapshot()
    const result = await ops(vars as Record<string, string>)
    expect(result.code, result.stdout).toBe(2)
    expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)])
    expect(snapshot()).toEqual(before)
  })

  test('a shared file no longer shaped as the edits expect: exit 1 naming it, nothing written', async () => {
    const compose = path.join(root, 'docker-compose.yml')
    const original = readFileSync(compose, 'utf8')
    writeFileSync(compose, original.replace(/^ {6}SERVICES: .*\n/m, ''))
    try {
      const before = snapshot()
      const result = await ops({ OPS_NAME: 'cart' })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain("docker-compose.yml: found no place for its name in postgres' SERVICES")
      expect(snapshot()).toEqual(before)
      expect(existsSync(path.join(root, 'infra/k8s/base/cart'))).toBe(false)
    } finally {
      writeFileSync(compose, original)
    }
  })

  test("the new service's own port, and a port something on this machine listens on", async () => {
    const taken = await ops({ OPS_NAME: 'cart', OPS_PORT: String(port) })
    expect(taken.stderr.trim()).toBe(
      `error: port ${port} is taken: it is shop's; choose another with port=<port>`,
    )
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const busy = (server.address() as { port: number }).port
    try {
      const result = await ops({ OPS_NAME: 'cart', OPS_PORT: String(busy) })
      expect(result.code).toBe(2)
      expect(result.stderr.trim()).toBe(
        `error: port ${busy} is in use on this machine (something listens on it); choose another with port=<port>`,
      )
    } finally {
      server.close()
    }
  })
})
