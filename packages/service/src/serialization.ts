// Response serializers (fast-json-stringify, Fastify's own compiler) built once per
// distinct schema rather than once per route and status code.
//
// Why: Fastify builds a serializer for every response schema of every route when the
// app gets ready, and the kit gives every route its documented error responses
// (documented-errors.ts), so most of those schemas are the same error body again:
// auth builds 68 serializers from 24 distinct schemas. Each build generates code and
// a validator of its own, and at a service's start they were the largest part of
// getting ready (bench/README.md, issue 16's fifth pass). A serializer depends on its
// schema alone (and the app's shared schemas, the same for all), so two equal schemas
// can share one.
import { type SerializerFactory, SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import fastJsonStringify, { type Options } from 'fast-json-stringify'
import { recordingSchemaCode, withSchemaCode } from './schema-code.js'

type Serializer = ReturnType<ReturnType<SerializerFactory>>

// Shared by every app and encapsulation context of the process whose factory gets the
// same shared schemas and options: Fastify calls the factory once per plugin context
// (Swagger's, the docs', each service plugin's), and the error bodies recur in all.
const byFactoryInput = new Map<string, Map<string, Serializer>>()

/**
 * Fastify's default serializer factory, with its serializers shared between equal
 * schemas, and loaded from the build's generated code where it has them (schema-code.ts).
 */
export const sharedSerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const build = SerializerSelector()(externalSchemas, options)
  const shared = sharedCache(externalSchemas, options)
  const cache = shared?.cache ?? new Map<string, Serializer>()
  const recording = recordingSchemaCode()
  return (route) => {
    // The schemas are plain JSON (TypeBox's markers are symbols, which JSON leaves out).
    const key = JSON.stringify(route.schema)
    let serializer = cache.get(key)
    if (serializer === undefined) {
      // A schema with an $id is built as Fastify builds it (its compiler drops the
      // shared schema of that $id first); so is any whose factory input is not JSON.
      if (!shared || (route.schema as { $id?: unknown }).$id) {
        serializer = build(route)
      } else {
        serializer = withSchemaCode(`serializer ${shared.key} ${key}`, () => ({
          built: build(route),
          source: recording
            ? (fastJsonStringify(route.schema as object, {
                ...(options as Options),
                schema: externalSchemas as Options['schema'],
                mode: 'standalone',
              }) as unknown as string)
            : undefined,
        }))
      }
      cache.set(key, serializer)
    }
    return serializer
  }
}

function sharedCache(
  externalSchemas: unknown,
  options: unknown,
): { key: string; cache: Map<string, Serializer> } | undefined {
  // Options holding a function (none in the services) get a cache of their own: JSON
  // would drop the function, and two different ones would look the same.
  if (
    options !== undefined &&
    Object.values(options as object).some((value) => typeof value === 'function')
  ) {
    return undefined
  }
  const key = `${JSON.stringify(externalSchemas ?? {})} ${JSON.stringify(options ?? {})}`
  let cache = byFactoryInput.get(key)
  if (cache === undefined) {
    cache = new Map()
    byFactoryInput.set(key, cache)
  }
  return { key, cache }
}
