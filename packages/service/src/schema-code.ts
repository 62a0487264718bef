// Route validators (Ajv) and response serializers (fast-json-stringify) generated at
// build time, in each library's own standalone mode, and loaded at start instead of
// generated again.
//
// Why: with the bundle compiled from its code cache, generating them became the
// largest part of a start: Ajv and fast-json-stringify write each one's source, cold
// code that runs once, then V8 compiles it (auth: 4 validators and 24 serializers,
// 75-130 ms of a start on a slow machine; bench/README.md, issue 16's fifth pass).
// Fastify's own route to this, @fastify/ajv-compiler's and
// fast-json-stringify-compiler's standalone modes, writes a file per route for a
// later require(), which a bundle cannot do; the libraries' standaloneCode() and
// mode: 'standalone' underneath are what is used here.
//
// How: the build's training start (code-cache.ts) records the source of each one it
// generates, keyed by all it was generated from (the schema's JSON, the Ajv instance's
// kind, the shared schemas); the build writes them beside the bundle with the bundle's
// SHA-256, and a start from that very bundle looks each up by the same key. Anything
// not found, or whose code fails to load, is generated as before. The generated code
// requires a few runtime modules of the two libraries by name: they are bundled and
// handed to it here.
/// <reference path="./untyped-modules.d.ts" />
import ajvEqual from 'ajv/dist/runtime/equal.js'
import ajvUcs2length from 'ajv/dist/runtime/ucs2length.js'
import ajvUri from 'ajv/dist/runtime/uri.js'
import ajvValidationError from 'ajv/dist/runtime/validation_error.js'
import { fastFormats, fullFormats } from 'ajv-formats/dist/formats.js'
import fjsSerializer from 'fast-json-stringify/lib/serializer.js'
import fjsValidator from 'fast-json-stringify/lib/validator.js'
import { codeCacheReport } from './code-cache.js'

// What a default import of a module compiled from TypeScript to CommonJS holds depends
// on who loads it: its module.exports (Node, esbuild in node mode) or that object's
// .default (Vitest). The generated code wants module.exports: rebuilt here either way.
const esModule = (imported: unknown) => ({
  default: (imported as { __esModule?: boolean; default?: unknown }).__esModule
    ? (imported as { default: unknown }).default
    : imported,
})

const RUNTIME_MODULES: Record<string, unknown> = {
  'ajv/dist/runtime/equal': esModule(ajvEqual),
  'ajv/dist/runtime/ucs2length': esModule(ajvUcs2length),
  'ajv/dist/runtime/uri': esModule(ajvUri),
  'ajv/dist/runtime/validation_error': esModule(ajvValidationError),
  'ajv-formats/dist/formats': { fullFormats, fastFormats },
  // Plain CommonJS (module.exports = class): the same in every loader.
  'fast-json-stringify/lib/serializer': fjsSerializer,
  'fast-json-stringify/lib/validator': fjsValidator,
}

export interface SchemaCodeCounts {
  /** Validators and serializers loaded from the build's generated code. */
  loaded: number
  /** Those generated at this start (none found for their key, or in-process apps). */
  generated: number
}

const counts: SchemaCodeCounts = { loaded: 0, generated: 0 }

/** How this process got its validators and serializers so far (the ready line reports it). */
export function schemaCodeCounts(): SchemaCodeCounts {
  return { ...counts }
}

/** True in the build's training start, where generated code is to be recorded. */
export function recordingSchemaCode(): boolean {
  return codeCacheReport()?.recordSchemaSource !== undefined
}

/**
 * The function for `key`: loaded from the build's generated code when it has one,
 * else made by `generate`, whose source (when it gives one) the training start keeps.
 */
export function withSchemaCode<F>(key: string, generate: () => { built: F; source?: string }): F {
  const report = codeCacheReport()
  const source = report?.schemaSources?.[key]
  if (source !== undefined) {
    const loaded = load(source)
    if (loaded !== undefined) {
      counts.loaded++
      return loaded as F
    }
  }
  const { built, source: generated } = generate()
  if (generated !== undefined) report?.recordSchemaSource?.(key, generated)
  counts.generated++
  return built
}

/** Runs a generated CommonJS module; undefined if it needs a module not bundled here. */
export function load(source: string): unknown {
  const module = { exports: {} as unknown }
  const require = (id: string) => {
    if (!(id in RUNTIME_MODULES))
      throw new Error(`generated schema code requires ${id}, which is not bundled`)
    return RUNTIME_MODULES[id]
  }
  try {
    new Function('module', 'exports', 'require', source)(module, module.exports, require)
  } catch {
    return undefined
  }
  return typeof module.exports === 'function' ? module.exports : undefined
}
