// Every rendered object against the Kubernetes API schemas, twice:
//
// 1. kubernetes-models' validators (JSON Schema compiled from the Kubernetes
//    OpenAPI document, 1.33): required fields, types, enums, formats.
// 2. A strict walk for unknown fields, which those schemas let through (the
//    OpenAPI document declares no additionalProperties: false, so `readinesProbe`
//    passes the validator, and the API server would drop it in silence, or reject
//    it under kubectl's strict field validation). The walk follows the same
//    package's type declarations, generated from the same OpenAPI document: each
//    key of each object must be a property of its type, or the type a map.
import path from 'node:path'
import * as apps from 'kubernetes-models/apps/v1'
import * as autoscaling from 'kubernetes-models/autoscaling/v2'
import * as batch from 'kubernetes-models/batch/v1'
import * as networking from 'kubernetes-models/networking.k8s.io/v1'
import * as policy from 'kubernetes-models/policy/v1'
import * as core from 'kubernetes-models/v1'
import ts from 'typescript'
import { describe, type K8sObject, k8sRoot } from './render.js'

interface ModelClass {
  apiVersion: string
  kind: string
  new (data: unknown): { validate(): void }
}

const MODELS = new Map<string, ModelClass>()
for (const group of [core, apps, batch, policy, autoscaling, networking]) {
  for (const value of Object.values(group)) {
    if (typeof value !== 'function') continue
    const model = value as unknown as Partial<ModelClass>
    if (typeof model.apiVersion === 'string' && typeof model.kind === 'string')
      MODELS.set(`${model.apiVersion}/${model.kind}`, model as ModelClass)
  }
}

/** Problems the Kubernetes API schema finds in the object ([] when it is valid). */
export function schemaProblems(object: K8sObject): string[] {
  const model = MODELS.get(`${object.apiVersion}/${object.kind}`)
  if (!model) return [`${describe(object)}: no schema for ${object.apiVersion} ${object.kind}`]
  try {
    new model(withUnwrappedSecretData(object)).validate()
    return []
  } catch (error) {
    return [`${describe(object)}: ${(error as Error).message}`]
  }
}

/**
 * kustomize writes a long Secret value's base64 over several lines; the API server
 * decodes it all the same (Go's base64 decoder skips newlines), but the schema's
 * `byte` format does not allow them.
 */
function withUnwrappedSecretData(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || !object.data) return object
  const data = Object.fromEntries(
    Object.entries(object.data as Record<string, string>).map(([key, value]) => [
      key,
      value.replace(/\n/g, ''),
    ]),
  )
  return { ...object, data }
}

// --- unknown fields ---------------------------------------------------------

let checker: ts.TypeChecker | undefined
const rootTypes = new Map<string, ts.Type>()

/** One TypeScript program over the package's declarations, built on first use (about a second). */
function typeOfKind(apiVersion: string, kind: string): ts.Type | undefined {
  const key = `${apiVersion}/${kind}`
  if (!checker) {
    const kinds = [...MODELS.keys()]
    const file = path.join(k8sRoot, 'test', '__kubernetes-kinds__.ts')
    // `kubernetes-models/<apiVersion>/<Kind>` declares `I<Kind>`.
    const source = kinds
      .map((k, i) => {
        const slash = k.lastIndexOf('/')
        return `import type { I${k.slice(slash + 1)} as T${i} } from 'kubernetes-models/${k.slice(0, slash)}/${k.slice(slash + 1)}'\nexport type K${i} = T${i}`
      })
      .join('\n')
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      target: ts.ScriptTarget.ES2022,
      types: [],
    }
    const host = ts.createCompilerHost(options)
    const getSourceFile = host.getSourceFile
    host.getSourceFile = (name, version, ...rest) =>
      path.resolve(name) === file
        ? ts.createSourceFile(name, source, version)
        : getSourceFile.call(host, name, version, ...rest)
    const fileExists = host.fileExists
    host.fileExists = (name) => path.resolve(name) === file || fileExists.call(host, name)
    const program = ts.createProgram([file], options, host)
    const unresolved = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName && path.resolve(d.file.fileName) === file)
    if (unresolved.length > 0)
      throw new Error(
        `kubernetes-models' declarations did not load: ${ts.flattenDiagnosticMessageText(unresolved[0]!.messageText, '\n')}`,
      )
    checker = program.getTypeChecker()
    const root = program.getSourceFile(file)!
    for (const statement of root.statements) {
      if (!ts.isTypeAliasDeclaration(statement)) continue
      const index = Number(statement.name.text.slice(1))
      rootTypes.set(kinds[index]!, checker.getTypeAtLocation(statement.name))
    }
  }
  return rootTypes.get(key)
}

/** Every field of the object that its schema does not declare, with its path. */
export function unknownFields(object: K8sObject): string[] {
  const type = typeOfKind(object.apiVersion, object.kind)
  if (!type) return [`${describe(object)}: no schema for ${object.apiVersion} ${object.kind}`]
  const problems: string[] = []
  walk(object, type, describe(object), problems)
  return problems
}

function walk(value: unknown, declared: ts.Type, at: string, problems: string[]): void {
  if (value === null || typeof value !== 'object') return
  const type = checker!.getNonNullableType(declared)
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return
  const members = type.isUnion() ? type.types : [type]
  if (Array.isArray(value)) {
    const array = members.find((m) => checker!.isArrayType(m)) as ts.TypeReference | undefined
    const element = array && checker!.getTypeArguments(array)[0]
    if (element) for (const [i, item] of value.entries()) walk(item, element, `${at}[${i}]`, problems)
    return
  }
  // Objects only: a value of the wrong kind (an object where a string belongs) is
  // the schema validator's finding, not an unknown field.
  const objects = members.filter((m) => m.flags & ts.TypeFlags.Object && !checker!.isArrayType(m))
  if (objects.length === 0) return
  for (const [key, child] of Object.entries(value)) {
    let field: ts.Type | undefined
    for (const candidate of objects) {
      const property = candidate.getProperty(key)
      field = property
        ? checker!.getTypeOfSymbol(property)
        : checker!.getIndexInfoOfType(candidate, ts.IndexKind.String)?.type
      if (field) break
    }
    if (!field) {
      const symbol = objects[0]!.getSymbol()?.getName() ?? checker!.typeToString(objects[0]!)
      const name = symbol.replace(/^I(?=[A-Z])/, '')
      problems.push(`${at}.${key}: unknown field (not in ${name})`)
      continue
    }
    walk(child, field, `${at}.${key}`, problems)
  }
}
