// Request validation with two Ajv instances: query strings, path params and headers
// arrive as text, so they are coerced to the declared types; JSON bodies are not
// ("12" is not a price, `true` is not 1), and unknown body fields are rejected
// rather than silently dropped.
import { Ajv, type Options } from 'ajv'
import standaloneModule from 'ajv/dist/standalone/index.js'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'
import { recordingSchemaCode, withSchemaCode } from './schema-code.js'

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default
// So does Ajv's standalone module, whose module.exports is also its .default.
const standaloneCode = standaloneModule.default

/**
 * Ajv as every instance here uses it. `validateSchema: false`: checking each schema
 * against the JSON Schema meta-schema first compiles that meta-schema, a third of a
 * service's start (about 35 ms). The schemas are built with TypeBox's typed builders,
 * and each service's tests check every schema it serves (invalidSchemasIn).
 */
export function makeAjv(options: Options): Ajv {
  return new Ajv({ allErrors: false, useDefaults: true, strict: false, validateSchema: false, ...options })
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  // The build's training start keeps each validator's source (schema-code.ts).
  const recording = recordingSchemaCode()
  const source = recording ? { code: { source: true } } : {}
  const strict = makeAjv({ coerceTypes: false, removeAdditional: false, ...source })
  const coercing = makeAjv({ coerceTypes: 'array', removeAdditional: false, ...source })
  addFormats(strict)
  addFormats(coercing)
  // Ajv keeps what it compiled by schema object; routes build equal schemas as objects
  // of their own (every `{ id: uuid }` of params), so here they are shared by content.
  const compiled = new Map<string, ReturnType<Ajv['compile']>>()
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing
    const key = `validator ${ajv === strict ? 'strict' : 'coercing'} ${JSON.stringify(schema)}`
    let validate = compiled.get(key)
    if (validate === undefined) {
      validate = withSchemaCode(key, () => {
        const built = ajv.compile(schema as object)
        return { built, source: recording ? standaloneCode(ajv, built) : undefined }
      })
      compiled.set(key, validate)
    }
    return validate
  }
}

/**
 * Every schema in an OpenAPI document (components, parameters, request bodies,
 * responses) checked against the JSON Schema meta-schema: the problems found, each
 * with where the schema sits. For tests: the services skip this check at startup.
 */
export function invalidSchemasIn(document: unknown): string[] {
  const checker = new Ajv({ strict: false })
  const problems: string[] = []
  const visit = (node: unknown, where: string): void => {
    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      const path = `${where}/${key}`
      if (key === 'schema' && value && typeof value === 'object' && !checker.validateSchema(value)) {
        problems.push(`${path}: ${checker.errorsText(checker.errors)}`)
      } else if (key === 'schemas' && where === '#/components' && value && typeof value === 'object') {
        for (const [name, schema] of Object.entries(value)) {
          if (!checker.validateSchema(schema as object)) {
            problems.push(`${path}/${name}: ${checker.errorsText(checker.errors)}`)
          }
        }
      } else {
        visit(value, path)
      }
    }
  }
  visit(document, '#')
  return problems
}
