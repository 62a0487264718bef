// The manifests against the real programs they configure, on this machine: each
// service started exactly as its Deployment starts it (the image's command, the
// container's environment with the dev overlay's example Secrets) answers its
// probes on the paths the manifest names; each migration Job's command accepts the
// Job's environment; Debian's PgBouncer loads the rendered pgbouncer.ini with the
// files its init container writes. Databases stand in as closed ports: what is
// tested is the configuration, not PostgreSQL.
import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import {
  freePort,
  killLeftovers,
  parseMetrics,
  SERVICE_START_COMMAND,
  sampleValue,
  startProcess,
  startService,
} from '@app/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { baseName, environment, parsePostgresUrl } from './support/invariants.js'
import { find, type K8sObject, render, repoRoot } from './support/render.js'
import { readRepoFile, serviceNames } from './support/repository.js'

const exec = promisify(execFile)
let objects: K8sObject[]
let workdir: string

beforeAll(async () => {
  objects = await render('dev')
  workdir = mkdtempSync(path.join(tmpdir(), 'k8s-processes-'))
})
afterAll(async () => {
  await killLeftovers()
  rmSync(workdir, { recursive: true, force: true })
})

/** The dev overlay's example Secret values, by `<secret NAME KEY>` as environment() writes them. */
function exampleSecrets(): Map<string, string> {
  const values = new Map<string, string>()
  for (const secret of objects.filter((o) => o.kind === 'Secret'))
    for (const [key, value] of Object.entries(secret.data as Record<string, string>))
      values.set(`<secret ${baseName(secret.metadata.name)} ${key}>`, Buffer.from(value, 'base64').toString())
  return values
}

/** A container's environment as the kubelet would give it, Secrets filled in from the examples. */
function containerEnv(container: unknown): Record<string, string> {
  const secrets = exampleSecrets()
  const env: Record<string, string> = {}
  for (const [name, value] of environment(container))
    env[name] = value.replace(/<secret [^>]+>/g, (ref) => {
      const found = secrets.get(ref)
      if (found === undefined) throw new Error(`${name}: ${ref} is not among the dev overlay's Secrets`)
      return found
    })
  return env
}

/** The same URL pointed at a local port where nothing listens. */
function toClosedPort(url: string, port: number): string {
  const parsed = parsePostgresUrl(url)!
  return url.replace(`@${parsed.host}:${parsed.port}/`, `@127.0.0.1:${port}/`)
}

/** The image's CMD (the Deployments set no command of their own). */
function imageCommand(): string[] {
  const dockerfile = readRepoFile('infra', 'docker', 'Dockerfile')
  return JSON.parse(/^CMD (.+)$/m.exec(dockerfile.slice(dockerfile.lastIndexOf('\nFROM ')))![1]!)
}

/** A container's command, as the kubelet runs it: that environment and nothing else but PATH. */
function start(command: string[], options: { cwd: string; env: Record<string, string> }) {
  return startProcess({
    command: command[0]!,
    args: command.slice(1),
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
  })
}

async function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(5_000) })
  return { status: res.status, body: await res.text() }
}

describe.each(serviceNames())('%s, as its Deployment runs it', (service) => {
  test("answers the probes the manifest names and Prometheus's scrape where its annotations point, and stops cleanly on SIGTERM", async () => {
    const deployment = find(objects, 'Deployment', service)
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]
    expect(container.command).toBeUndefined()
    const env = containerEnv(container)
    const port = await freePort()
    // Only the listening address and the database's place change: on this machine
    // the process listens on loopback, on a free port, and finds no database.
    env.PORT = String(port)
    env.HOST = '127.0.0.1'
    env.DATABASE_URL = toClosedPort(env.DATABASE_URL!, await freePort())
    if (env.AUTH_JWT_KEYS_DIR) {
      const keys = mkdtempSync(path.join(workdir, 'jwt-'))
      const { privateKey } = generateKeyPairSync('ed25519')
      writeFileSync(path.join(keys, 'current.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
      env.AUTH_JWT_KEYS_DIR = keys
    }
    // The image's command is the one every service process is started with.
    expect(imageCommand()).toEqual([...SERVICE_START_COMMAND])
    const proc = await startService({ dir: path.join(repoRoot, 'services', service), env, port })

    let health = { status: 0, body: '' }
    for (let i = 0; i < 100 && health.status !== 200; i++) {
      if (!proc.running) throw new Error(`${service} exited: ${proc.lines.join('\n')}`)
      health = await get(port, '/healthz').catch(() => health)
      if (health.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(health.status, proc.lines.join('\n')).toBe(200)

    for (const probe of ['startupProbe', 'livenessProbe'])
      expect((await get(port, container[probe].httpGet.path)).status).toBe(200)
    // Not ready: MIGRATE_ON_START=false and no database to find its migrations in.
    const ready = await get(port, container.readinessProbe.httpGet.path)
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'starting' })
    // The control: any other path answers the starting gate's 503, not readiness.
    expect(JSON.parse((await get(port, '/ready')).body)).toMatchObject({ code: 'SERVICE_STARTING' })

    // Prometheus scrapes the path the pod's annotations name (on the container's port,
    // which the invariants hold to the service's): open while starting, and counting.
    const scrape = async () => {
      const response = await get(port, deployment.spec.template.metadata.annotations['prometheus.io/path'])
      expect(response.status, response.body).toBe(200)
      return parseMetrics(response.body)
    }
    const healthz = { method: 'GET', route: '/healthz', status_code: '200' }
    const before = await scrape()
    await get(port, '/healthz')
    const after = await scrape()
    expect(
      (sampleValue(after, 'http_requests_total', healthz) ?? 0) -
        (sampleValue(before, 'http_requests_total', healthz) ?? 0),
    ).toBe(1)
    for (const family of [
      'http_requests_total',
      'http_request_duration_seconds',
      'db_pool_connections_in_use',
      'db_pool_connections_idle',
      'db_pool_waiting',
      'db_migrations',
      'process_cpu_seconds_total',
    ])
      expect(after.types.has(family), family).toBe(true)
    // No database to read the ledger from: no made-up migration counts.
    expect(after.samples.filter((sample) => sample.name === 'db_migrations')).toEqual([])
    // Nothing connected, ever. A connection attempt counts as in use while it lasts
    // (pg-pool's totalCount): the readiness checks' attempts are refused at once, but on
    // a loaded machine the refusal can arrive after the next scrape, so the count is
    // read until it is back at 0.
    expect(sampleValue(after, 'db_pool_connections_idle', {})).toBe(0)
    let inUse = sampleValue(after, 'db_pool_connections_in_use', {})
    for (let i = 0; i < 50 && inUse !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      inUse = sampleValue(await scrape(), 'db_pool_connections_in_use', {})
    }
    expect(inUse).toBe(0)

    const started = Date.now()
    expect(await proc.stop()).toEqual({ code: 0, signal: null })
    expect(Date.now() - started).toBeLessThan(pod.terminationGracePeriodSeconds * 1000)
  })

  test("its migration Job's command takes the Job's environment and fails only on the missing database", async () => {
    const container = find(objects, 'Job', `${service}-migrate`).spec.template.spec.containers[0]
    const env = containerEnv(container)
    env.MIGRATION_DATABASE_URL = toClosedPort(env.MIGRATION_DATABASE_URL!, await freePort())
    env.DB_CONNECT_TIMEOUT_MS = '500'
    const proc = start(container.command, { cwd: path.join(repoRoot, 'services', service), env })
    expect((await proc.exited).code).toBe(1)
    const output = proc.lines.join('\n')
    expect(output).not.toMatch(/invalid configuration/)
    expect(output).toMatch(/ECONNREFUSED|not reachable/)
  })
})

describe("PgBouncer with the rendered pgbouncer.ini and its init container's files", () => {
  test("loads the configuration, and admits the runtime roles with their Secret's password only", async () => {
    const deployment = find(objects, 'Deployment', 'pgbouncer').spec.template.spec
    const init = deployment.initContainers[0]
    const dir = mkdtempSync(path.join(workdir, 'pgbouncer-'))
    const generated = path.join(dir, 'generated')
    const closed = await freePort()
    // The init container's own script, writing where this test can read.
    const script = init.command[2].replaceAll('/etc/pgbouncer/generated', generated)
    const initEnv = { ...containerEnv(init), POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(closed) }
    await exec('mkdir', ['-p', generated])
    await exec(init.command[0], [init.command[1], script], { env: { PATH: process.env.PATH, ...initEnv } })
    expect(readdirSync(generated).sort()).toEqual(['databases.ini', 'userlist.txt'])

    const config = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pgbouncer-config-'),
    )!
    const port = await freePort()
    const ini = (config.data['pgbouncer.ini'] as string)
      .replaceAll('/etc/pgbouncer/generated', generated)
      .replace(/^listen_addr = .*$/m, 'listen_addr = 127.0.0.1')
      .replace(/^listen_port = .*$/m, `listen_port = ${port}`)
      // Debian 12's PgBouncer is 1.18; the image's 1.25 knows this setting, 1.18 does not.
      .replace(/^max_prepared_statements = .*$/m, '')
      // A client that passed authentication waits for a server connection; here
      // there is no server, so it is told after 2 s instead of 120.
      .replace(/^pool_mode = transaction$/m, 'pool_mode = transaction\nquery_wait_timeout = 2')
    expect(ini).toMatch(/^pool_mode = transaction$/m)
    writeFileSync(path.join(dir, 'pgbouncer.ini'), ini)
    // PgBouncer refuses to run as root; as root, the test runs it as nobody.
    for (const file of [dir, generated, ...readdirSync(generated).map((f) => path.join(generated, f))])
      chmodSync(file, file.endsWith('.txt') || file.endsWith('.ini') ? 0o644 : 0o755)
    chmodSync(workdir, 0o755)
    const asNobody =
      userInfo().uid === 0 ? ['setpriv', '--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups'] : []
    const proc = start([...asNobody, '/usr/sbin/pgbouncer', path.join(dir, 'pgbouncer.ini')], {
      cwd: dir,
      env: {},
    })

    const connect = async (user: string, password: string) => {
      const client = new pg.Client({
        host: '127.0.0.1',
        port,
        user,
        password,
        database: 'app',
        connectionTimeoutMillis: 10_000,
      })
      client.on('error', () => {})
      try {
        await client.connect()
        return 'connected'
      } catch (error) {
        return (error as Error).message
      } finally {
        await client.end().catch(() => {})
      }
    }
    let refused = ''
    for (let i = 0; i < 50; i++) {
      if (!proc.running) throw new Error(`pgbouncer exited: ${proc.lines.join('\n')}`)
      refused = await connect('auth_app', 'not-the-password')
      if (!/ECONNREFUSED/.test(refused)) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(refused, proc.lines.join('\n')).toMatch(/authentication failed/)
    const secrets = exampleSecrets()
    for (const service of serviceNames()) {
      // Past PgBouncer's own check (SCRAM against the userlist), stopped only by the
      // server that is not there.
      const admitted = await connect(`${service}_app`, secrets.get(`<secret ${service}-db-app password>`)!)
      expect(admitted, proc.lines.join('\n')).not.toMatch(/authentication failed/)
      expect(admitted).toBe('query_wait_timeout')
    }
    expect(await connect('postgres', 'postgres-dev-password')).toMatch(
      /authentication failed|not allowed|no such user/,
    )
    await proc.stop({ signal: 'SIGINT' })
    expect(proc.lines.join('\n')).not.toMatch(/unknown parameter|syntax error|FATAL/)
  })
})
