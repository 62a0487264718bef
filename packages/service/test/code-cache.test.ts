// The code cache a service bundle starts from: used only for the very bundle it was
// made from, and a bundle runs the same with it, without it, or with a cache V8 refuses.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, expect, test } from 'vitest'
import {
  cacheFileOf,
  codeCacheReport,
  readCacheKind,
  runBundle,
  TRAINING_VARIABLE,
  writeCompileOnlyCache,
} from '../src/code-cache.js'

let dir: string
let bundle: string

// A CommonJS bundle in miniature: what it exports shows which source ran, and that
// it got the module wrapper's require, __filename and __dirname.
function writeBundle(answer: string): void {
  writeFileSync(
    bundle,
    `const path = require('node:path')
const helper = require('./helper.cjs')
function answer() { return ${JSON.stringify(answer)} }
module.exports = { answer: answer(), helper, file: path.basename(__filename), dir: __dirname }
`,
  )
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'code-cache-'))
  bundle = path.join(dir, 'server.cjs')
  writeFileSync(path.join(dir, 'helper.cjs'), 'module.exports = "helper"\n')
  writeBundle('first')
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const expected = (answer: string) => ({ answer, helper: 'helper', file: 'server.cjs', dir })

// Whether V8 takes a cache is only seen in a fresh process: within one, V8 reuses
// its own in-memory compile of a source it has seen and never reads the cache.
// The child runs the built module (the package's test task depends on its build).
const builtModule = fileURLToPath(new URL('../dist/code-cache.js', import.meta.url))
function startFresh(env: Record<string, string> = {}): { exports: unknown; status: string } {
  const script = `import { runBundle, codeCacheReport } from ${JSON.stringify(builtModule)}
const exports = runBundle(${JSON.stringify(bundle)})
codeCacheReport().finishTraining?.()
console.log(JSON.stringify({ exports, status: codeCacheReport().status }))`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  })
  expect(child.status, child.stderr).toBe(0)
  return JSON.parse(child.stdout)
}

test('with no cache the bundle runs as a CommonJS module and says the cache is absent', () => {
  expect(runBundle(bundle, {})).toEqual(expected('first'))
  expect(codeCacheReport()?.status).toBe('absent')
  expect(readCacheKind(bundle)).toBeUndefined()
})

test('a training start writes the cache only when told, and a later start has V8 take it', () => {
  expect(runBundle(bundle, { [TRAINING_VARIABLE]: '1' })).toEqual(expected('first'))
  const training = codeCacheReport()
  expect(training?.status).toBe('training')
  expect(() => readFileSync(cacheFileOf(bundle))).toThrow(/ENOENT/)

  expect(startFresh({ [TRAINING_VARIABLE]: '1' })).toEqual({ exports: expected('first'), status: 'training' })
  expect(readCacheKind(bundle)).toBe('trained')
  expect(startFresh()).toEqual({ exports: expected('first'), status: 'used' })
})

test('a cache of the compile alone is taken by V8 and reported as such', () => {
  writeCompileOnlyCache(bundle)
  expect(readCacheKind(bundle)).toBe('compile-only')
  expect(startFresh()).toEqual({ exports: expected('first'), status: 'used-compile-only' })
})

test('a bundle that changed, even keeping its length, runs its new code without the old cache', () => {
  runBundle(bundle, { [TRAINING_VARIABLE]: '1' })
  codeCacheReport()?.finishTraining?.()
  const before = readFileSync(bundle)
  // Same length: V8's own check (the source's length) would accept the old cache.
  writeBundle('other')
  expect(readFileSync(bundle).length).toBe(before.length)
  expect(readFileSync(bundle).equals(before)).toBe(false)
  expect(readCacheKind(bundle)).toBeUndefined()
  expect(runBundle(bundle, {})).toEqual(expected('other'))
  expect(codeCacheReport()?.status).toBe('stale')
})

test('a cache V8 refuses (another version or flags) is reported, and the bundle runs without it', () => {
  writeCompileOnlyCache(bundle)
  const cache = readFileSync(cacheFileOf(bundle))
  // The header (the bundle's hash, the kind) stays valid; V8's own data does not.
  cache.fill(7, 33)
  writeFileSync(cacheFileOf(bundle), cache)
  expect(startFresh()).toEqual({ exports: expected('first'), status: 'rejected' })
})

test('a cache cut short is stale, not read past its end', () => {
  writeCompileOnlyCache(bundle)
  writeFileSync(cacheFileOf(bundle), readFileSync(cacheFileOf(bundle)).subarray(0, 20))
  expect(runBundle(bundle, {})).toEqual(expected('first'))
  expect(codeCacheReport()?.status).toBe('stale')
})

test("the schema code a training start records is handed to starts of that very bundle, and to no other's", () => {
  runBundle(bundle, { [TRAINING_VARIABLE]: '1' })
  const source = 'module.exports = function validate() { return true }'
  codeCacheReport()?.recordSchemaSource?.('validator strict {"type":"object"}', source)
  codeCacheReport()?.finishTraining?.()
  runBundle(bundle, {})
  expect(codeCacheReport()?.schemaSources).toEqual({ 'validator strict {"type":"object"}': source })
  expect(codeCacheReport()?.recordSchemaSource).toBeUndefined()

  writeBundle('other')
  runBundle(bundle, {})
  expect(codeCacheReport()?.schemaSources).toBeUndefined()
})
