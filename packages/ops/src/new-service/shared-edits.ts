// What a new service adds to the files every service shares: the compose file, the
// Kubernetes kustomizations, policies and Jobs, docs/kubernetes.md's Secret commands, the
// ports list, auth's default token audiences. Each edit is anchored on the entries the existing services have there
// (the last one, or a list to extend) and inserts a snippet from
// templates/new-service/inserts; an anchor that is not found stops everything
// before a single file is written, naming the file.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { renderInsert } from './template.js'
import type { Tokens } from './tokens.js'

type Edit =
  /** Inserts a snippet after the last match (a match ends with its line's newline). */
  | { file: string; what: string; after: RegExp; insert: string }
  /** Inserts a snippet before the first match. */
  | { file: string; what: string; before: RegExp; insert: string }
  /** Adds a snippet at the end of the file. */
  | { file: string; what: string; atEnd: true; insert: string }
  /** Adds a snippet, without its final newline, right after the only match: a list grows by one. */
  | { file: string; what: string; extend: RegExp; insert: string }

const EDITS: Edit[] = [
  {
    file: 'services/auth/src/config.ts',
    what: "its name in auth's default AUTH_TOKEN_AUDIENCES (tokens must name it to be accepted there)",
    extend: /^export const DEFAULT_TOKEN_AUDIENCES = '[a-z0-9,-]+/m,
    insert: 'audiences.list.txt',
  },
  {
    file: 'packages/ops/src/stack/ports.ts',
    what: 'its port in DEFAULT_PORTS',
    extend: /^export const DEFAULT_PORTS\b[^\n]*\{(?:\n {2}[a-z0-9]+: \d+,)+/m,
    insert: 'ports.entry.txt',
  },
  {
    file: 'docker-compose.yml',
    what: "its name in postgres' SERVICES",
    extend: /^ {6}SERVICES: [a-z0-9 ]+/m,
    insert: 'services.list.txt',
  },
  {
    file: 'docker-compose.yml',
    what: "its roles' passwords in postgres' environment",
    after: /^ {6}[A-Z0-9]+_APP_DB_PASSWORD: .*\n/gm,
    insert: 'docker-compose.passwords.yml',
  },
  {
    file: 'docker-compose.yml',
    what: "its docs page's origins in auth's AUTH_CORS_ORIGINS",
    extend: /^ {6}AUTH_CORS_ORIGINS: \S+/m,
    insert: 'compose.cors-origins.txt',
  },
  {
    file: 'docker-compose.yml',
    what: 'its service, before the volumes',
    before: /^volumes:$/m,
    insert: 'docker-compose.service.yml',
  },
  {
    file: 'infra/k8s/base/kustomization.yaml',
    what: 'its manifests among the resources',
    after: /^ {2}- [a-z0-9]+\/pdb\.yaml\n/gm,
    insert: 'kustomization.resources.yaml',
  },
  {
    file: 'infra/k8s/base/network-policies.yaml',
    what: "its pods among PgBouncer's clients",
    extend: /- key: app\.kubernetes\.io\/name\n\s+operator: In\n\s+values: \[[a-z0-9, ]+/,
    insert: 'network-policy.pgbouncer-clients.txt',
  },
  {
    file: 'infra/k8s/base/network-policies.yaml',
    what: 'its NetworkPolicy',
    atEnd: true,
    insert: 'network-policy.yaml',
  },
  {
    file: 'infra/k8s/base/database-bootstrap/job.yaml',
    what: "its name in the bootstrap Job's SERVICES",
    extend: /- name: SERVICES\n\s+value: [a-z0-9 ]+/,
    insert: 'services.list.txt',
  },
  {
    file: 'infra/k8s/base/database-bootstrap/job.yaml',
    what: "its passwords and statement timeout in the bootstrap Job's environment",
    after: /^ {12}- name: [A-Z0-9]+_STATEMENT_TIMEOUT\n {14}value: .*\n/gm,
    insert: 'bootstrap-job.env.yaml',
  },
  {
    file: 'infra/k8s/base/pgbouncer/deployment.yaml',
    what: "its runtime role in PgBouncer's userlist",
    extend: /printf '"%s" "%s"\\n'(?: [a-z0-9]+_app "\$[A-Z0-9]+_APP_DB_PASSWORD")+/,
    insert: 'pgbouncer.userlist.txt',
  },
  {
    file: 'infra/k8s/base/pgbouncer/deployment.yaml',
    what: "its runtime role's password in PgBouncer's init container",
    after: /^ {12}- name: [A-Z0-9]+_APP_DB_PASSWORD\n(?: {14,}\S.*\n){4}/gm,
    insert: 'pgbouncer.env.yaml',
  },
  {
    file: 'infra/k8s/overlays/dev/kustomization.yaml',
    what: 'its image tag',
    after: /^ {2}- name: schema-per-service\/[a-z0-9]+\n {4}newTag: dev\n/gm,
    insert: 'dev.images.yaml',
  },
  {
    file: 'infra/k8s/overlays/dev/kustomization.yaml',
    what: 'its example Secrets',
    after: /^ {2}- name: [a-z0-9]+-db-app\n {4}literals:\n {6}- password=.*\n/gm,
    insert: 'dev.secrets.yaml',
  },
  {
    file: 'infra/k8s/overlays/dev/kustomization.yaml',
    what: "its docs page's login form target (AUTH_PUBLIC_URL)",
    after: /^patches:\n/gm,
    insert: 'dev.patches.yaml',
  },
  {
    file: 'infra/k8s/overlays/production/kustomization.yaml',
    what: 'its image',
    after: /^ {2}- name: schema-per-service\/[a-z0-9]+\n {4}newName: .*\n {4}newTag: .*\n/gm,
    insert: 'production.images.yaml',
  },
  {
    file: 'infra/k8s/overlays/production/kustomization.yaml',
    what: 'its replica count',
    after: /^ {2}- name: [a-z0-9]+\n {4}count: 3\n/gm,
    insert: 'production.replicas.yaml',
  },
  {
    file: 'infra/k8s/overlays/production/kustomization.yaml',
    what: "its docs page's origin in auth's AUTH_CORS_ORIGINS",
    extend: /name: AUTH_CORS_ORIGINS\n\s+value: \S+/,
    insert: 'production.cors-origins.txt',
  },
  {
    file: 'infra/k8s/overlays/production/kustomization.yaml',
    what: "its docs page's login form target (AUTH_PUBLIC_URL)",
    after: /^patches:\n/gm,
    insert: 'production.patches.yaml',
  },
  {
    file: 'infra/k8s/overlays/production/hpa.yaml',
    what: 'its HorizontalPodAutoscaler',
    atEnd: true,
    insert: 'hpa.yaml',
  },
  {
    file: 'docs/kubernetes.md',
    what: "its Secrets among the production's kubectl create secret commands",
    after: /^ {3}kubectl create secret generic [a-z0-9]+-db-app .*\n/gm,
    insert: 'readme.secrets.sh',
  },
]

export interface PlannedEdit {
  file: string
  before: string
  after: string
}

function apply(text: string, edit: Edit, tokens: Tokens): string | undefined {
  const snippet = renderInsert(edit.insert, tokens)
  if ('extend' in edit) {
    const matches = [...text.matchAll(new RegExp(edit.extend.source, `${edit.extend.flags}g`))]
    if (matches.length !== 1) return undefined
    const end = matches[0]!.index + matches[0]![0].length
    return text.slice(0, end) + snippet.replace(/\n$/, '') + text.slice(end)
  }
  if ('atEnd' in edit) return `${text.replace(/\n*$/, '\n')}${snippet}`
  if ('before' in edit) {
    const match = edit.before.exec(text)
    return match ? text.slice(0, match.index) + snippet + text.slice(match.index) : undefined
  }
  const last = [...text.matchAll(edit.after)].at(-1)
  if (!last) return undefined
  const end = last.index + last[0].length
  return text.slice(0, end) + snippet + text.slice(end)
}

/**
 * Every shared file with the new service added, in memory. Throws, naming each file
 * and what could not be placed, when a file no longer has the shape an edit expects.
 */
export function planSharedEdits(root: string, tokens: Tokens): PlannedEdit[] {
  const texts = new Map<string, { before: string; after: string }>()
  const problems: string[] = []
  for (const edit of EDITS) {
    const current = texts.get(edit.file) ?? {
      before: readFileSync(path.join(root, edit.file), 'utf8'),
      after: '',
    }
    const changed = apply(current.after || current.before, edit, tokens)
    if (changed === undefined) problems.push(`${edit.file}: found no place for ${edit.what}`)
    else texts.set(edit.file, { before: current.before, after: changed })
  }
  const k8sPackage = addWorkspaceDevDependency(root, 'infra/k8s/package.json', `@app/${tokens.name}`)
  if (problems.length > 0) {
    throw new Error(
      `cannot add ${tokens.name} to the shared files (nothing was written):\n  ${problems.join('\n  ')}\nThe edits are in packages/ops/src/new-service/shared-edits.ts: bring the file back to the shape they expect, or teach them the new one.`,
    )
  }
  return [...[...texts].map(([file, { before, after }]) => ({ file, before, after })), k8sPackage]
}

/** The Kubernetes tests start every service from its build: turbo builds the ones listed here first. */
function addWorkspaceDevDependency(root: string, file: string, dependency: string): PlannedEdit {
  const before = readFileSync(path.join(root, file), 'utf8')
  const manifest = JSON.parse(before) as { devDependencies?: Record<string, string> }
  const entries = Object.entries({ ...manifest.devDependencies, [dependency]: 'workspace:*' })
  manifest.devDependencies = Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)))
  return { file, before, after: `${JSON.stringify(manifest, null, 2)}\n` }
}
