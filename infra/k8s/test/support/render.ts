// Renders an overlay exactly as a user deploys it (`kubectl kustomize`, the same
// kustomize `kubectl apply -k` runs) and parses the documents.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'

const exec = promisify(execFile)

/** infra/k8s */
export const k8sRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const repoRoot = path.resolve(k8sRoot, '../..')
export const OVERLAYS = ['dev', 'production'] as const
export type Overlay = (typeof OVERLAYS)[number]

/** A rendered Kubernetes object, as loosely typed as YAML gives it. */
export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: {
    name: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
  }
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are walked structurally; the schema tests type them
  [field: string]: any
}

/** kustomize 5 (kubectl 1.27+): the kustomizations use `labels` and `patches`. */
const KUBECTL_HINT =
  "kubectl 1.27 or later (kustomize v5) renders infra/k8s: install it (scripts/ensure-test-tools.sh says how); Debian 12's kubernetes-client (1.20, kustomize v2) is too old"

export async function kustomize(dir: string): Promise<string> {
  try {
    const { stdout } = await exec('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') throw new Error(KUBECTL_HINT)
    throw new Error(`kubectl kustomize ${path.relative(repoRoot, dir)} failed: ${e.stderr ?? e.message}`)
  }
}

export function parseObjects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((document) => {
      if (document.errors.length > 0) throw document.errors[0]
      return document.toJS() as K8sObject | null
    })
    .filter((object): object is K8sObject => object !== null)
}

const rendered = new Map<Overlay, Promise<K8sObject[]>>()

/** The overlay's objects, rendered once per test file. Callers get their own copy to change. */
export async function render(overlay: Overlay): Promise<K8sObject[]> {
  let objects = rendered.get(overlay)
  if (!objects) {
    objects = kustomize(path.join(k8sRoot, 'overlays', overlay)).then(parseObjects)
    rendered.set(overlay, objects)
  }
  return structuredClone(await objects)
}

export function describe(object: K8sObject): string {
  return `${object.kind} ${object.metadata?.name}`
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name)
  if (!found) throw new Error(`no ${kind} ${name} among the rendered objects`)
  return found
}
