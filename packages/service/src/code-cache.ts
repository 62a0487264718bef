// A service bundle (dist/server.cjs, one 3.4 MB CommonJS file) compiled with a V8
// code cache made at build time (dist/server.cjs.cache).
//
// Why: everything a service runs while it starts is cold code. Before a line of the
// bundle runs, V8 pre-parses all of it; then each function is parsed and compiled
// again the first time it is called (Ajv building the config's validator, Fastify
// registering routes, ...). A cache holds the bytecode of the functions compiled up
// to the moment it is taken, so V8 deserializes them instead; on these machines
// auth's start went from about 470 to 330 ms (bench/README.md's log).
//
// How it is taken: the build starts the bundle once in training mode
// (CODE_CACHE_TRAINING=1, placeholder config, no database): runService builds the
// app, answers /healthz and /readyz in process, and, before it would listen, calls
// finishTraining(), which writes the cache. What only runs later (listen, the
// migration check) compiles lazily as before. If the training start fails, the
// build writes a cache of the bare compile instead (about a third of the gain) and
// says why.
//
// Why not a library or Node's own: Node 22's module.enableCompileCache() caches ES
// modules, but writes at run time (nothing in a fresh pod, a read-only root file
// system); v8-compile-cache does the same for require(). On Node 20 only a CommonJS
// script compiled through node:vm accepts a cache, so the loader is ours.
//
// V8 accepts a cache only for its own version and flags ('rejected' otherwise) and
// checks the source by length alone: so each cache starts with the SHA-256 of the
// bundle it was made from, and a bundle that differs by a byte compiles without it
// ('stale'). The cache changes what is compiled when, never what runs.
import { isAscii } from 'node:buffer'
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import path from 'node:path'
import vm from 'node:vm'

/**
 * What became of the cache at this start; the ready log line reports it.
 * 'used': a cache taken after a training start; 'used-compile-only': one of the bare
 * compile (the training start failed at build); 'training': this start makes one.
 */
export type CodeCacheStatus = 'used' | 'used-compile-only' | 'absent' | 'stale' | 'rejected' | 'training'

export interface CodeCacheReport {
  status: CodeCacheStatus
  /** Training mode only: writes the cache of what has been compiled so far, and the schema code recorded. */
  finishTraining?: () => void
  /**
   * The route schemas' generated code the build made from this very bundle, by key
   * (schema-code.ts); absent when there is none or it was made from another bundle.
   */
  schemaSources?: Record<string, string>
  /** Training mode only: keeps a generated validator's or serializer's source for the build. */
  recordSchemaSource?: (key: string, source: string) => void
}

/** The variable that starts a bundle in training mode (set by scripts/bundle-service.mjs). */
export const TRAINING_VARIABLE = 'CODE_CACHE_TRAINING'

// The cache file: SHA-256 of the bundle, one byte saying how it was taken, V8's data.
const HASH_BYTES = 32
const HEADER_BYTES = HASH_BYTES + 1
const TRAINED = 1
const COMPILE_ONLY = 0
const REPORT = Symbol.for('@app/service.codeCache')

export function cacheFileOf(bundleFile: string): string {
  return `${bundleFile}.cache`
}

/** The route schemas' generated code (JSON: the bundle's SHA-256 in hex, the sources by key). */
export function schemaCodeFileOf(bundleFile: string): string {
  return `${bundleFile}.schemas.json`
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest()
}

function compile(bundleFile: string, bytes: Buffer, cachedData?: Buffer): vm.Script {
  // Module.wrap: the same function wrapper Node gives a CommonJS file, so the
  // bundle sees exports, require, module, __filename and __dirname as usual.
  // An ASCII bundle (the build makes it one) becomes a one-byte string, half the
  // memory of the two-byte string a single non-ASCII character makes of all 3.4 MB.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8')
  return new vm.Script(Module.wrap(source), {
    filename: bundleFile,
    ...(cachedData ? { cachedData } : {}),
    // A dynamic import() inside the bundle resolves as it would in any module.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  })
}

function writeCache(bundleFile: string, digest: Buffer, script: vm.Script, kind: number): number {
  const data = Buffer.concat([digest, Buffer.of(kind), script.createCachedData()])
  writeWhole(cacheFileOf(bundleFile), data)
  return data.length
}

// Written whole or not at all: a half-written file must not meet a new bundle.
function writeWhole(target: string, data: Buffer | string): void {
  writeFileSync(`${target}.tmp`, data)
  renameSync(`${target}.tmp`, target)
}

function writeSchemaCode(bundleFile: string, digest: Buffer, sources: Record<string, string>): void {
  writeWhole(schemaCodeFileOf(bundleFile), JSON.stringify({ bundleSha256: digest.toString('hex'), sources }))
}

function readSchemaCode(bundleFile: string, digest: Buffer): Record<string, string> | undefined {
  try {
    const file = JSON.parse(readFileSync(schemaCodeFileOf(bundleFile), 'utf8')) as {
      bundleSha256?: unknown
      sources?: Record<string, string>
    }
    return file.bundleSha256 === digest.toString('hex') ? file.sources : undefined
  } catch {
    return undefined
  }
}

/** Build time, when the training start failed: a cache of the bundle's compile alone (not run). */
export function writeCompileOnlyCache(bundleFile: string): { bytes: number } {
  const bytes = readFileSync(bundleFile)
  return { bytes: writeCache(bundleFile, sha256(bytes), compile(bundleFile, bytes), COMPILE_ONLY) }
}

/** How the cache beside a bundle was taken, if it matches the bundle (for the build's own check). */
export function readCacheKind(bundleFile: string): 'trained' | 'compile-only' | undefined {
  const cache = readCache(bundleFile, sha256(readFileSync(bundleFile)))
  if (cache.status === 'used') return 'trained'
  if (cache.status === 'used-compile-only') return 'compile-only'
  return undefined
}

function readCache(bundleFile: string, digest: Buffer): { status: CodeCacheStatus; cachedData?: Buffer } {
  let data: Buffer
  try {
    data = readFileSync(cacheFileOf(bundleFile))
  } catch {
    return { status: 'absent' }
  }
  if (data.length <= HEADER_BYTES || !data.subarray(0, HASH_BYTES).equals(digest)) return { status: 'stale' }
  const kind = data[HASH_BYTES]
  return { status: kind === TRAINED ? 'used' : 'used-compile-only', cachedData: data.subarray(HEADER_BYTES) }
}

/**
 * Run time (the service's dist/server.js): compile the bundle with its cache when the
 * cache was made from this very bundle, else without, and run it as the CommonJS
 * module it was built as. Returns the bundle's exports.
 */
export function runBundle(
  bundleFile: string,
  env: Record<string, string | undefined> = process.env,
): unknown {
  const bytes = readFileSync(bundleFile)
  const training = env[TRAINING_VARIABLE] === '1'
  const digest = sha256(bytes)
  const cache: ReturnType<typeof readCache> = training
    ? { status: 'training' }
    : readCache(bundleFile, digest)
  const script = compile(bundleFile, bytes, cache.cachedData)
  const status: CodeCacheStatus = cache.cachedData && script.cachedDataRejected ? 'rejected' : cache.status
  const report: CodeCacheReport = { status }
  if (training) {
    const sources: Record<string, string> = {}
    report.recordSchemaSource = (key, source) => {
      sources[key] = source
    }
    report.finishTraining = () => {
      writeSchemaCode(bundleFile, digest, sources)
      writeCache(bundleFile, digest, script, TRAINED)
    }
  } else {
    const sources = readSchemaCode(bundleFile, digest)
    if (sources) report.schemaSources = sources
  }
  ;(globalThis as Record<symbol, unknown>)[REPORT] = report

  const bundle = new Module(bundleFile)
  bundle.filename = bundleFile
  bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    path.dirname(bundleFile),
  )
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  wrapper.call(
    bundle.exports,
    bundle.exports,
    createRequire(bundleFile),
    bundle,
    bundleFile,
    path.dirname(bundleFile),
  )
  bundle.loaded = true
  return bundle.exports
}

/** How this process's bundle was compiled, if it was started through runBundle. */
export function codeCacheReport(): CodeCacheReport | undefined {
  return (globalThis as Record<symbol, unknown>)[REPORT] as CodeCacheReport | undefined
}
