// docker-compose.yml and the image, checked without a Docker engine: Debian's
// docker-compose (1.29) validates the file against the Compose schema (unknown or
// mistyped keys fail) and prints it normalised; the rest compares it with what
// make dev and make run do.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { discoverServices, repoRoot } from '@app/migrations/authoring'
import { cleanEnv } from '@app/testkit'
import { beforeAll, describe, expect, test } from 'vitest'
import { DEFAULT_PORTS } from '../src/stack/ports.js'
import { SERVICE_START_COMMAND } from '../src/stack/service-process.js'

const exec = promisify(execFile)
const root = repoRoot()
const services = discoverServices()

interface ComposeService {
  image?: string
  build?: { context: string; dockerfile: string; args?: Record<string, string> }
  environment?: Record<string, string>
  /** docker-compose 1.29 prints a port bound to an address in the short syntax, `ip:published:target/tcp`. */
  ports?: ({ published: number; target: number } | string)[]
  /** docker-compose 1.29 prints mounts in the short syntax, `source:target[:mode]`. */
  volumes?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
}
interface ComposeConfig {
  services: Record<string, ComposeService>
  volumes?: Record<string, unknown>
}

let workdir: string
/** `docker-compose config` on `file`, with no .env file and no overriding variables. */
async function composeConfig(file: string): Promise<string> {
  const envFile = path.join(workdir, 'empty.env')
  writeFileSync(envFile, '')
  const { stdout } = await exec('docker-compose', ['--env-file', envFile, '-f', file, 'config'], {
    env: cleanEnv(),
  })
  return stdout
}

beforeAll(async () => {
  await exec('docker-compose', ['version']).catch(() => {
    throw new Error(
      'docker-compose is needed to validate docker-compose.yml: apt-get update && apt-get install -y docker-compose',
    )
  })
  workdir = mkdtempSync(path.join(tmpdir(), 'compose-'))
  return () => rmSync(workdir, { recursive: true, force: true })
})

describe('docker-compose.yml', () => {
  let config: ComposeConfig
  beforeAll(async () => {
    const normalised = await composeConfig(path.join(root, 'docker-compose.yml'))
    // python3-yaml comes with docker-compose; it turns the normalised YAML into JSON.
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile(
        'python3',
        ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
        (error, stdout) => (error ? reject(error) : resolve({ stdout })),
      )
      child.stdin!.end(normalised)
    })
    config = JSON.parse(stdout)
  })

  test('a mistyped key is rejected (the validation above is real)', async () => {
    const broken = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8').replace(
      'start_period:',
      'start_perod:',
    )
    expect(broken).toContain('start_perod:')
    const file = path.join(workdir, 'docker-compose.yml')
    writeFileSync(file, broken)
    await expect(composeConfig(file)).rejects.toThrow(/start_perod/)
  })

  test('postgres: pinned major version, healthcheck, named volume, the bootstrap as init script', () => {
    const postgres = config.services.postgres!
    expect(postgres.image).toMatch(/^postgres:\d+$/)
    expect(postgres.healthcheck?.test.join(' ')).toContain('pg_isready')
    expect(Object.keys(config.volumes ?? {})).toEqual(['pgdata'])
    const mounts = Object.fromEntries(
      (postgres.volumes ?? []).map((volume) => {
        const [source, target, mode] = volume.split(':')
        return [target, { source, mode }]
      }),
    )
    expect(mounts['/var/lib/postgresql/data']?.source).toBe('pgdata')
    expect(mounts['/docker-entrypoint-initdb.d']?.source).toBe(path.join(root, 'infra', 'postgres', 'initdb'))
    // The init script's default path for the SQL file is where compose mounts it.
    const script = readFileSync(
      path.join(root, 'infra', 'postgres', 'initdb', '10-bootstrap-services.sh'),
      'utf8',
    )
    const sqlPath = /BOOTSTRAP_SQL:-([^}"]+)/.exec(script)?.[1]
    expect(mounts[sqlPath!]?.source).toBe(path.join(root, 'infra', 'postgres', 'bootstrap-service.sql'))
    expect(postgres.environment?.SERVICES?.split(' ')).toEqual(services.map((s) => s.name))
    // The database and its development passwords stay on the loopback interface.
    expect(postgres.ports).toEqual(['127.0.0.1:5432:5432/tcp'])
  })

  test('adminer on 8080, loopback only', () => {
    expect(config.services.adminer?.image).toMatch(/^adminer:\d+$/)
    expect(config.services.adminer?.ports).toEqual(['127.0.0.1:8080:8080/tcp'])
  })

  test('every service: built from infra/docker/Dockerfile, its port, its own two roles, started once postgres is healthy', () => {
    const database = config.services.postgres!.environment!.POSTGRES_DB
    for (const service of services) {
      const entry = config.services[service.name]!
      expect(entry.build).toEqual({
        context: root,
        dockerfile: 'infra/docker/Dockerfile',
        args: { SERVICE: service.name },
      })
      const port = DEFAULT_PORTS[service.name]!
      expect(entry.ports).toEqual([expect.objectContaining({ published: port, target: port })])
      expect(entry.environment?.PORT).toBe(String(port))
      expect(entry.depends_on?.postgres).toEqual({ condition: 'service_healthy' })
      // Requests as the runtime role, migrations as the schema's owner, as make dev does.
      for (const [variable, role] of [
        ['DATABASE_URL', `${service.name}_app`],
        ['MIGRATION_DATABASE_URL', service.name],
      ] as const) {
        const url = new URL(entry.environment![variable]!)
        expect([url.username, url.password, url.host, url.pathname]).toEqual([
          role,
          `${role}-dev-password`,
          'postgres:5432',
          `/${database}`,
        ])
      }
      // Only its own credentials: no other URL or password among its variables.
      const others = Object.entries(entry.environment ?? {}).filter(
        ([key, value]) =>
          !/^(MIGRATION_)?DATABASE_URL$/.test(key) &&
          (/postgres(ql)?:\/\//.test(value) || /PASSWORD/.test(key)),
      )
      expect(others).toEqual([])
    }
    expect(config.services.billing?.environment?.AUTH_URL).toBe(`http://auth:${DEFAULT_PORTS.auth}`)
    // Plain http to auth off loopback stops billing unless declared (compose's network is private).
    expect(config.services.billing?.environment?.AUTH_URL_ALLOW_HTTP).toBe('true')
  })
})

describe('infra/docker/Dockerfile', () => {
  const dockerfile = readFileSync(path.join(root, 'infra', 'docker', 'Dockerfile'), 'utf8')
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))

  test('starts the service with the command make run and make dev use', () => {
    const cmd = /^CMD (.+)$/m.exec(finalStage)?.[1]
    expect(JSON.parse(cmd!)).toEqual([...SERVICE_START_COMMAND])
  })

  test('runs as a non-root user, with production dependencies only', () => {
    expect(/^USER (\S+)$/m.exec(finalStage)?.[1]).toBe('node')
    expect(dockerfile).toMatch(/deploy --prod/)
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/)
  })

  test("the patched dependencies' files are in the image before pnpm fetches and installs", () => {
    // pnpm reads (and hashes) every patch named in pnpm-workspace.yaml when it installs:
    // a file missing from the build stage fails the image's install (ENOENT).
    const workspace = readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8')
    const entries = /^patchedDependencies:\n((?: {2}.+\n?)+)/m.exec(workspace)?.[1] ?? ''
    const files = [...entries.matchAll(/: (\S+)$/gm)].map((match) => match[1]!)
    for (const file of files) {
      expect(file.startsWith('patches/'), file).toBe(true)
      expect(existsSync(path.join(root, file)), file).toBe(true)
    }
    if (files.length > 0) {
      const copied = dockerfile.indexOf('\nCOPY patches ./patches\n')
      expect(copied).toBeGreaterThan(-1)
      expect(copied).toBeLessThan(dockerfile.indexOf('\nRUN pnpm fetch'))
    }
  })

  test('.dockerignore keeps installed and built files out of the build context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n')
    for (const pattern of ['**/node_modules', '**/dist', '.dev', '.tools', '.git'])
      expect(ignored).toContain(pattern)
  })
})
