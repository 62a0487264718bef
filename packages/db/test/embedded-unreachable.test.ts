// The embedded PostgreSQL where its server user cannot reach the checkout: run by
// root, the server runs as `postgres`, and a repository cloned into a 0700
// directory (root's home) holds both its binaries and make dev's data directory.
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  unlinkSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterEach, describe, expect, test } from 'vitest'
import { type EmbeddedPostgres, freePort, startEmbeddedPostgres } from '../src/embedded.js'
import { packageBinaries, reachableBinaries } from '../src/embedded-binaries.js'
import { serverUser } from '../src/embedded-server-user.js'

const asRoot = process.getuid?.() === 0

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A directory only this user can enter, as `mktemp -d` and root's home are. */
function privateDirectory(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-private-'))
  expect(lstatSync(dir).mode & 0o777).toBe(0o700)
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function start(dataDir: string, persistent: boolean, port?: number): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({
    dataDir,
    persistent,
    unsafeFast: true,
    ...(port ? { port } : {}),
  })
  cleanups.push(() => server.stop())
  return server
}

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

/** Whether the `postgres` user can execute (a file) or enter (a directory) `target`, asked independently of the code under test. */
function postgresUserReaches(target: string): boolean {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout)
  return spawnSync('test', ['-x', target], { uid: id('-u'), gid: id('-g'), cwd: '/' }).status === 0
}

describe('a data directory inside a directory the server user cannot enter', () => {
  test('a throwaway cluster starts, answers, and leaves nothing behind when stopped', async () => {
    const dataDir = path.join(privateDirectory(), 'parent', 'data')
    const server = await start(dataDir, false)
    const [row] = await query(server.adminUrl, "SELECT 1 AS one, current_setting('data_directory') AS dir")
    expect(row!.one).toBe(1)
    const where = String(row!.dir)
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true)
    if (asRoot) {
      // The cluster lives where `postgres` can reach it; the requested path leads there.
      expect(where).not.toContain(path.dirname(path.dirname(dataDir)))
      expect(postgresUserReaches(where)).toBe(true)
      expect(realpathSync(dataDir)).toBe(where)
      const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
      expect(postgresUserReaches(realpathSync(`/proc/${postmaster}/exe`))).toBe(true)
    } else {
      expect(where).toBe(dataDir)
    }
    await server.stop()
    expect(existsSync(dataDir)).toBe(false)
    expect(existsSync(where)).toBe(false)
  })

  test('a persistent cluster keeps its rows across restarts, and starts afresh once its path is removed (make clean)', async () => {
    const dataDir = path.join(privateDirectory(), '.dev', 'postgres')
    let server = await start(dataDir, true)
    await query(server.adminUrl, 'CREATE TABLE kept AS SELECT 42 AS answer')
    const [{ dir: first } = {}] = await query(
      server.adminUrl,
      "SELECT current_setting('data_directory') AS dir",
    )
    await server.stop()

    server = await start(dataDir, true)
    expect(await query(server.adminUrl, 'SELECT answer FROM kept')).toEqual([{ answer: 42 }])
    await server.stop()

    // What `make clean` does: rm -rf .dev/postgres (a link, when the cluster moved).
    rmSync(dataDir, { recursive: true, force: true })
    server = await start(dataDir, false)
    const [{ kept }] = (await query(server.adminUrl, "SELECT to_regclass('kept') IS NOT NULL AS kept")) as [
      { kept: boolean },
    ]
    expect(kept).toBe(false)
    const [{ dir: second } = {}] = await query(
      server.adminUrl,
      "SELECT current_setting('data_directory') AS dir",
    )
    expect(second).toBe(first)
    await server.stop()
    expect(existsSync(String(first))).toBe(false)
  })
})

describe.skipIf(!asRoot)('binaries the server user cannot reach (run as root)', () => {
  test('are run from a copy that user can enter, written once and replaced when incomplete', async () => {
    const installed = await packageBinaries()
    // The platform package as it would sit in a checkout under a 0700 directory.
    const packageDir = path.dirname(path.dirname(path.dirname(installed.postgres)))
    const checkout = path.join(privateDirectory(), path.basename(packageDir))
    mkdirSync(checkout)
    cpSync(path.join(packageDir, 'package.json'), path.join(checkout, 'package.json'))
    cpSync(path.join(packageDir, 'native'), path.join(checkout, 'native'), {
      recursive: true,
      verbatimSymlinks: true,
    })
    const inCheckout = {
      initdb: path.join(checkout, path.relative(packageDir, installed.initdb)),
      postgres: path.join(checkout, path.relative(packageDir, installed.postgres)),
    }
    expect(postgresUserReaches(inCheckout.postgres)).toBe(false)
    // A shared directory of the test's own, so the real cache is left alone.
    const shared = mkdtempSync(path.join('/var/tmp', 'pg-shared-test-'))
    chmodSync(shared, 0o755)
    cleanups.push(() => rmSync(shared, { recursive: true, force: true }))

    const runAs = serverUser()!
    const moved = reachableBinaries(inCheckout, runAs, shared)
    expect(path.dirname(path.dirname(moved.postgres)).startsWith(`${shared}/`)).toBe(true)
    for (const binary of [moved.initdb, moved.postgres]) expect(postgresUserReaches(binary)).toBe(true)
    const version = spawnSync(moved.postgres, ['--version'], {
      uid: runAs.uid,
      gid: runAs.gid,
      encoding: 'utf8',
    })
    expect(version.stdout).toMatch(/^postgres \(PostgreSQL\) 17\./)

    // Same content, same copy; a copy missing a file (a /var/tmp cleaner) is replaced.
    expect(reachableBinaries(inCheckout, runAs, shared)).toEqual(moved)
    unlinkSync(moved.initdb)
    expect(reachableBinaries(inCheckout, runAs, shared)).toEqual(moved)
    expect(existsSync(moved.initdb)).toBe(true)
  })
})

describe('what cannot work fails with one line saying why', () => {
  test('a port already taken', async () => {
    const port = await freePort()
    const holder = createServer().listen(port, '127.0.0.1')
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())))
    const dataDir = path.join(privateDirectory(), 'data')
    const started = start(dataDir, false, port)
    await expect(started).rejects.toThrow(
      new RegExp(`^embedded PostgreSQL failed to start on 127\\.0\\.0\\.1:${port} .*Address already in use`),
    )
    const message = await started.catch((error: Error) => error.message)
    expect(message).not.toContain('\n')
    rmSync(dataDir, { recursive: true, force: true })
  })

  test.skipIf(!asRoot)('an existing cluster the server user cannot reach', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'pg-closed-'))
    cleanups.push(() => rmSync(parent, { recursive: true, force: true }))
    chmodSync(parent, 0o755)
    const dataDir = path.join(parent, 'data')
    await (await startEmbeddedPostgres({ dataDir, unsafeFast: true })).stop()
    // Someone closes the directory above an existing cluster: it cannot be moved.
    chmodSync(parent, 0o700)
    const message = await startEmbeddedPostgres({ dataDir, unsafeFast: true }).then(
      () => 'started',
      (error: Error) => error.message,
    )
    expect(message).toBe(
      `the postgres user, which runs PostgreSQL for root, cannot enter ${parent} (mode 0700, owner uid 0), so it cannot use the data directory ${dataDir}: move that directory where the user can enter, or run as a regular user`,
    )
  })
})
