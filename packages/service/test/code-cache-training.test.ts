// The build's training start, run for real (a child process through the built modules, as
// scripts/bundle-service.mjs runs it) on a service in miniature: a trained cache when the
// start finishes, and when it does not, a cache of the compile alone that a later start
// takes, with a reason the build prints.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { readCacheKind } from '../src/code-cache.js'
import { trainCodeCache } from '../src/code-cache-training.js'

// The child runs the built module (the package's test task depends on its build).
const builtCodeCache = fileURLToPath(new URL('../dist/code-cache.js', import.meta.url))

let dir: string
let bundle: string
let entry: string

/**
 * The bundle's training start: `body` runs where a service's runService would build its
 * app; `finish` is where it would call finishTraining() before listening.
 */
function writeService(body: string): void {
  writeFileSync(
    bundle,
    `const report = globalThis[Symbol.for('@app/service.codeCache')]
function start() { ${body} }
module.exports = { started: start() }
if (report.status === 'training') report.finishTraining()
`,
  )
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'code-cache-training-test-'))
  bundle = path.join(dir, 'server.cjs')
  entry = path.join(dir, 'server.mjs')
  writeFileSync(
    entry,
    `import { runBundle, codeCacheReport } from ${JSON.stringify(builtCodeCache)}
const { started } = runBundle(${JSON.stringify(bundle)})
console.log(JSON.stringify({ started, status: codeCacheReport().status }))
`,
  )
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const train = (env: (scratch: string) => Record<string, string> = () => ({}), timeoutMs?: number) =>
  trainCodeCache({ bundleFile: bundle, entry, cwd: dir, env, ...(timeoutMs ? { timeoutMs } : {}) })

/** A later start of the built service, as `node dist/server.js` runs it. */
function startLater(): { started: unknown; status: string } {
  const child = spawnSync(process.execPath, [entry], { encoding: 'utf8', env: { PATH: process.env.PATH } })
  expect(child.status, child.stderr).toBe(0)
  return JSON.parse(child.stdout)
}

test('a training start that finishes leaves a trained cache, which the next start takes', () => {
  // Its environment is the caller's, not the test runner's (HOME is set here).
  writeService(`if (process.env.CODE_CACHE_TRAINING === '1') {
    if (process.env.PLACEHOLDER !== 'given') throw new Error('PLACEHOLDER not given')
    if (process.env.HOME !== undefined) throw new Error('HOME inherited')
  }
  return 'ok'`)
  expect(process.env.HOME).toBeDefined()
  expect(train(() => ({ PLACEHOLDER: 'given' }))).toEqual({ cache: 'trained' })
  expect(readCacheKind(bundle)).toBe('trained')
  expect(startLater()).toEqual({ started: 'ok', status: 'used' })
})

test('a training start that throws leaves a cache of the compile alone, and the error as the reason', () => {
  writeService(
    "if (process.env.CODE_CACHE_TRAINING === '1') throw new TypeError('route /x: schema is not an object'); return 'ok'",
  )
  expect(train()).toEqual({ cache: 'compile-only', why: 'TypeError: route /x: schema is not an object' })
  expect(readCacheKind(bundle)).toBe('compile-only')
  // The service still starts, from that cache: the build lost only part of the speed-up.
  expect(startLater()).toEqual({ started: 'ok', status: 'used-compile-only' })
})

test("a training start that refuses its config gives the service's own last word as the reason", () => {
  writeService(
    "if (process.env.CODE_CACHE_TRAINING === '1') { console.error('config: AUTH_ISSUER is required'); process.exit(1) }",
  )
  expect(train()).toEqual({ cache: 'compile-only', why: 'config: AUTH_ISSUER is required' })
  expect(readCacheKind(bundle)).toBe('compile-only')
})

test('a training start that hangs is stopped, and the build goes on with the compile alone', () => {
  // Waiting forever for what never comes (a connection the placeholder config cannot
  // open): the process stays up and never reaches finishTraining().
  writeFileSync(
    bundle,
    `const report = globalThis[Symbol.for('@app/service.codeCache')]
if (report.status === 'training') setInterval(() => {}, 1000)
module.exports = { started: 'ok' }
`,
  )
  expect(train(undefined, 1_000)).toEqual({ cache: 'compile-only', why: 'it did not finish in time' })
  expect(startLater()).toEqual({ started: 'ok', status: 'used-compile-only' })
})

test('a training start that exits cleanly without writing the cache says so', () => {
  writeFileSync(bundle, "module.exports = { started: 'ok' }\n")
  expect(train()).toEqual({ cache: 'compile-only', why: 'it exited 0 without writing the cache' })
  expect(readCacheKind(bundle)).toBe('compile-only')
})
