// Replicas started together with one DEV_SECRETS_DIR, as `make dev` starts them:
// real auth processes (dist/server.js, built before the tests) racing to create the
// development key. One key must come out of it, or replicas reject each other's
// tokens. The key is loaded (and logged with its kid) before the database is
// needed, so none is given: the processes wait for it until they are stopped.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort, killLeftovers, type LogEntry, type ServiceProcess, startService } from '@app/testkit'
import { afterAll, expect, test } from 'vitest'
import { parseSigningKey } from '../src/tokens/key-pem.js'
import { toSigningKey } from '../src/tokens/signing-key.js'

const REPLICAS = 4
const dir = path.resolve(import.meta.dirname, '..')

afterAll(() => killLeftovers())

async function startReplica(secrets: string): Promise<ServiceProcess> {
  return startService({
    dir,
    env: {
      // Nothing listens there: the process logs its keys, then keeps retrying.
      DATABASE_URL: `postgres://auth:unused@127.0.0.1:${await freePort()}/app`,
      DB_CONNECT_TIMEOUT_MS: '60000',
      LOG_LEVEL: 'info',
      DEV_SECRETS_DIR: secrets,
    },
  })
}

/** The first log entry of a replica that `matches`, once it has written it. */
async function logged(replica: ServiceProcess, matches: (msg: string) => boolean): Promise<LogEntry> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const entry = replica.logEntries().find((entry) => typeof entry.msg === 'string' && matches(entry.msg))
    if (entry) return entry
    if (!replica.running || Date.now() > deadline) {
      throw new Error(`auth did not log it (exit ${replica.child.exitCode}):\n${replica.lines.join('\n')}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const loadedKeys = (replica: ServiceProcess) =>
  logged(replica, (msg) => msg.startsWith('auth: token keys loaded')).then(({ kid, source }) => ({
    kid,
    source,
  }))

test('replicas starting together create one development key and all sign with it', async () => {
  const secrets = path.join(mkdtempSync(path.join(tmpdir(), 'dev-secrets-')), 'secrets')
  const started = await Promise.all(Array.from({ length: REPLICAS }, () => startReplica(secrets)))
  const keys = await Promise.all(started.map(loadedKeys))

  expect(readdirSync(secrets)).toEqual(['auth-jwt-signing-key.pem'])
  const file = path.join(secrets, 'auth-jwt-signing-key.pem')
  expect(statSync(secrets).mode & 0o777).toBe(0o700)
  expect(statSync(file).mode & 0o777).toBe(0o600)
  const parsed = parseSigningKey(readFileSync(file, 'utf8'), file)
  if ('problem' in parsed) throw new Error(parsed.problem)
  const { kid } = await toSigningKey(parsed.privateKey)
  // A dist/server.js built before DEV_SECRETS_DIR existed gives each replica a key of its own.
  expect(keys, 'is dist/server.js current? pnpm --filter @app/auth build').toEqual(
    Array.from({ length: REPLICAS }, () => ({ kid, source: 'DEV_SECRETS_DIR' })),
  )
  for (const replica of started) {
    const warning = await logged(replica, (msg) => msg.includes('signing tokens with a development key'))
    expect(warning).toMatchObject({ level: 40, msg: expect.stringContaining(`DEV_SECRETS_DIR (${file})`) })
  }
})
