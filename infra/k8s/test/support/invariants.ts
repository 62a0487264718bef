// The properties the rendered manifests must keep, each as a function from the
// rendered objects to a list of problems ([] when it holds), so that a test can
// run it on the real render and on a deliberately broken copy.
import { describe, type K8sObject } from './render.js'

export const NAMESPACE = 'schema-per-service'
const POD_OWNERS = new Set(['Deployment', 'StatefulSet', 'Job', 'DaemonSet'])

// biome-ignore lint/suspicious/noExplicitAny: manifests are walked structurally (their schema is checked elsewhere)
type Any = any

export interface Workload {
  object: K8sObject
  name: string
  labels: Record<string, string>
  pod: Any
  containers: Any[]
}

export function workloads(objects: K8sObject[]): Workload[] {
  return objects
    .filter((o) => POD_OWNERS.has(o.kind))
    .map((object) => {
      const pod = object.spec.template.spec
      return {
        object,
        name: object.metadata.name,
        labels: object.spec.template.metadata?.labels ?? {},
        pod,
        containers: [...(pod.initContainers ?? []), ...pod.containers],
      }
    })
}

function workload(objects: K8sObject[], name: string): Workload | undefined {
  return workloads(objects).find((w) => w.name === name)
}

/**
 * A kustomize-generated name (`auth-db-app-f9t7k4tgc9`) without its content hash:
 * kustomize writes the hash in the letters and digits below only.
 */
export function baseName(name: string): string {
  return name.replace(/-[2456789bcdfghkmt]{10}$/, '')
}

/**
 * A container's environment with Kubernetes' $(VAR) expansion applied; a value from
 * a Secret stands as `<secret NAME KEY>` (NAME without kustomize's hash).
 */
export function environment(container: Any): Map<string, string> {
  const env = new Map<string, string>()
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef
    const value = ref
      ? `<secret ${baseName(ref.name)} ${ref.key}>`
      : String(entry.value ?? '').replace(
          /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
          (whole, name) => env.get(name) ?? whole,
        )
    env.set(entry.name, value)
  }
  return env
}

/** Every Secret a pod template reads, as `NAME/KEY` (or `NAME/*` for a whole-Secret volume). */
export function secretReads(w: Workload): string[] {
  const reads = w.containers.flatMap((c) => [
    ...(c.env ?? [])
      .map((e: Any) => e.valueFrom?.secretKeyRef)
      .filter(Boolean)
      .map((r: Any) => `${baseName(r.name)}/${r.key}`),
    ...(c.envFrom ?? [])
      .map((e: Any) => e.secretRef?.name)
      .filter(Boolean)
      .map((n: string) => `${baseName(n)}/*`),
  ])
  for (const volume of w.pod.volumes ?? [])
    if (volume.secret) reads.push(`${baseName(volume.secret.secretName)}/*`)
  return [...new Set(reads)].sort()
}

interface PostgresUrl {
  user: string
  password: string
  host: string
  port: string
  database: string
}

export function parsePostgresUrl(url: string | undefined): PostgresUrl | undefined {
  const m = /^postgres(?:ql)?:\/\/([^:@/]+):([^@]+)@([^:/]+):([^/]+)\/([^?]+)/.exec(url ?? '')
  return m ? { user: m[1]!, password: m[2]!, host: m[3]!, port: m[4]!, database: m[5]! } : undefined
}

function resolvePort(container: Any, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port
  return container.ports?.find((p: Any) => p.name === port)?.containerPort
}

// --- probes, ports and the drain -----------------------------------------------

export interface ServiceFacts {
  services: string[]
  defaultPort: (service: string) => number
  routes: string[]
  finishAfterDrainMs: number
  defaultDrainMs: number
}

const PROBES = { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' } as const

/** Each service's probes hit the routes the service serves, on the port it listens on. */
export function probeProblems(objects: K8sObject[], facts: ServiceFacts): string[] {
  const problems: string[] = []
  for (const service of facts.services) {
    const w = workload(objects, service)
    if (w?.object.kind !== 'Deployment') {
      problems.push(`no Deployment ${service}`)
      continue
    }
    const container = w.pod.containers.find((c: Any) => c.name === service)
    if (!container) {
      problems.push(`Deployment ${service}: no container named ${service}`)
      continue
    }
    const env = environment(container)
    const port = Number(env.get('PORT') ?? facts.defaultPort(service))
    if (port !== facts.defaultPort(service))
      problems.push(
        `Deployment ${service}: PORT ${port}, the service's default is ${facts.defaultPort(service)}`,
      )
    if (env.get('HOST') !== '0.0.0.0')
      problems.push(
        `Deployment ${service}: HOST must be 0.0.0.0 (the default 127.0.0.1 is unreachable from the kubelet)`,
      )
    const declared = (container.ports ?? []).map((p: Any) => p.containerPort)
    if (declared.length !== 1 || declared[0] !== port)
      problems.push(
        `Deployment ${service}: containerPorts ${declared.join(', ')}, the process listens on ${port}`,
      )
    for (const [probe, path] of Object.entries(PROBES)) {
      const get = container[probe]?.httpGet
      if (!get) {
        problems.push(`Deployment ${service}: no ${probe} with httpGet`)
        continue
      }
      if (get.path !== path) problems.push(`Deployment ${service}: ${probe} on ${get.path}, expected ${path}`)
      if (!facts.routes.includes(get.path))
        problems.push(`Deployment ${service}: ${probe} path ${get.path} is not a route the service serves`)
      if (resolvePort(container, get.port) !== port)
        problems.push(`Deployment ${service}: ${probe} port ${get.port} is not the service's port ${port}`)
    }
    const annotations = w.object.spec.template.metadata?.annotations ?? {}
    if (
      annotations['prometheus.io/scrape'] !== 'true' ||
      annotations['prometheus.io/path'] !== '/metrics' ||
      annotations['prometheus.io/port'] !== String(port)
    )
      problems.push(`Deployment ${service}: Prometheus annotations must scrape /metrics on ${port}`)
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === service)
    const svcPort = svc?.spec.ports?.[0]
    if (
      svc?.spec.ports.length !== 1 ||
      svcPort.port !== port ||
      resolvePort(container, svcPort.targetPort) !== port
    )
      problems.push(`Service ${service}: must expose port ${port} onto the container's port ${port}`)
    else if (!selects(svc.spec.selector, w.labels))
      problems.push(`Service ${service}: its selector does not select the Deployment's pods`)
  }
  // billing reaches auth by its Service.
  const billing = workload(objects, 'billing')
  const authUrl = billing && environment(billing.pod.containers[0]).get('AUTH_URL')
  if (facts.services.includes('auth') && authUrl !== `http://auth:${facts.defaultPort('auth')}`)
    problems.push(
      `Deployment billing: AUTH_URL ${authUrl}, auth's Service is http://auth:${facts.defaultPort('auth')}`,
    )
  return problems
}

/** The grace period outlasts the drain plus the time in-flight requests get after it. */
export function drainProblems(objects: K8sObject[], facts: ServiceFacts): string[] {
  const problems: string[] = []
  for (const service of facts.services) {
    const w = workload(objects, service)
    if (!w) continue
    const env = environment(w.pod.containers[0])
    const drainMs = Number(env.get('SHUTDOWN_DRAIN_MS') ?? facts.defaultDrainMs)
    const grace = w.pod.terminationGracePeriodSeconds ?? 30
    if (!(drainMs + facts.finishAfterDrainMs < grace * 1000))
      problems.push(
        `Deployment ${service}: terminationGracePeriodSeconds ${grace} must exceed SHUTDOWN_DRAIN_MS ${drainMs} ms + ${facts.finishAfterDrainMs} ms for in-flight requests`,
      )
  }
  return problems
}

// --- containers ----------------------------------------------------------------

const QUANTITY = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/
const FACTOR: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
}

export function quantity(value: string | number | undefined): number {
  const m = QUANTITY.exec(String(value ?? ''))
  if (!m) return Number.NaN
  return Number(m[1]) * (m[2] ? FACTOR[m[2]]! : 1)
}

/** Every container of every pod: non-root, nothing to escalate, read-only, bounded. */
export function containerProblems(objects: K8sObject[]): string[] {
  const problems: string[] = []
  for (const w of workloads(objects)) {
    const pod = w.pod
    const at = `${w.object.kind} ${w.name}`
    if (pod.automountServiceAccountToken !== false)
      problems.push(`${at}: automountServiceAccountToken must be false (no pod talks to the API)`)
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${at}: shares a host namespace`)
    for (const c of w.containers) {
      const where = `${at} container ${c.name}`
      const sc = c.securityContext ?? {}
      const psc = pod.securityContext ?? {}
      if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`)
      const uid = sc.runAsUser ?? psc.runAsUser
      if (typeof uid !== 'number' || uid === 0)
        problems.push(
          `${where}: runAsUser must be a non-zero uid (a named USER cannot be checked by the kubelet)`,
        )
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${where}: allowPrivilegeEscalation is not false`)
      if (sc.privileged) problems.push(`${where}: privileged`)
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`)
      if (!sc.capabilities?.drop?.includes('ALL') || (sc.capabilities?.add ?? []).length > 0)
        problems.push(`${where}: must drop ALL capabilities and add none`)
      if ((sc.seccompProfile ?? psc.seccompProfile)?.type !== 'RuntimeDefault')
        problems.push(`${where}: seccompProfile is not RuntimeDefault`)
      for (const resource of ['cpu', 'memory']) {
        const request = quantity(c.resources?.requests?.[resource])
        const limit = quantity(c.resources?.limits?.[resource])
        if (!(request > 0) || !(limit > 0)) problems.push(`${where}: needs a ${resource} request and limit`)
        else if (request > limit) problems.push(`${where}: ${resource} request above its limit`)
      }
      if (/:latest$|^[^:]+$/.test(c.image)) problems.push(`${where}: image ${c.image} has no pinned tag`)
    }
  }
  return problems
}

/** The services' memory requests cover the peak RSS make bench measured under load. */
export function sizingProblems(
  objects: K8sObject[],
  peakMib: Map<string, number>,
  services: string[],
): string[] {
  const problems: string[] = []
  for (const service of services) {
    const peak = peakMib.get(service)
    if (peak === undefined) {
      problems.push(`bench/README.md has no RSS figure for ${service}`)
      continue
    }
    const c = workload(objects, service)?.pod.containers[0]
    const request = quantity(c?.resources?.requests?.memory)
    if (!(request >= peak * 2 ** 20))
      problems.push(
        `Deployment ${service}: memory request ${c?.resources?.requests?.memory} is below the ${peak} MiB peak under load`,
      )
    if (!(quantity(c?.resources?.limits?.memory) >= 1.5 * peak * 2 ** 20))
      problems.push(
        `Deployment ${service}: memory limit leaves less than half the ${peak} MiB peak as headroom`,
      )
  }
  return problems
}

// --- database roles --------------------------------------------------------------

/**
 * Deployments serve as the runtime role through PgBouncer and hold no other
 * credential; each migration Job runs the service's image's migrate entry as the
 * owner role, straight to PostgreSQL; only the bootstrap Job holds the admin's.
 */
export function roleProblems(objects: K8sObject[], services: string[]): string[] {
  const problems: string[] = []
  const endpointHost = '<secret postgres-endpoint host>'
  for (const service of services) {
    const deployment = workload(objects, service)
    const job = workload(objects, `${service}-migrate`)
    if (!deployment || !job) {
      problems.push(`${service}: needs a Deployment ${service} and a Job ${service}-migrate`)
      continue
    }
    const serve = deployment.pod.containers[0]
    const env = environment(serve)
    const url = parsePostgresUrl(env.get('DATABASE_URL'))
    if (url?.user !== `${service}_app` || url.password !== `<secret ${service}-db-app password>`)
      problems.push(
        `Deployment ${service}: DATABASE_URL must be ${service}_app's, its password from Secret ${service}-db-app`,
      )
    if (url?.host !== 'pgbouncer')
      problems.push(`Deployment ${service}: DATABASE_URL must go through pgbouncer`)
    if (env.has('MIGRATION_DATABASE_URL'))
      problems.push(`Deployment ${service}: holds a MIGRATION_DATABASE_URL`)
    if (env.get('MIGRATE_ON_START') !== 'false')
      problems.push(`Deployment ${service}: MIGRATE_ON_START must be false (the Job migrates)`)
    const served = secretReads(deployment).filter((r) => !r.startsWith('auth-jwt-keys/'))
    if (served.join() !== `${service}-db-app/password`)
      problems.push(
        `Deployment ${service}: reads Secrets ${served.join(', ')}; only ${service}-db-app/password`,
      )

    const migrate = job.pod.containers.find((c: Any) => c.name === 'migrate')
    if (!migrate) {
      problems.push(`Job ${service}-migrate: no container named migrate`)
      continue
    }
    if (JSON.stringify(migrate.command) !== JSON.stringify(['node', 'dist/migrate.js']) || migrate.args)
      problems.push(`Job ${service}-migrate: must run node dist/migrate.js`)
    if (migrate.image !== serve.image)
      problems.push(`Job ${service}-migrate: image ${migrate.image} is not the Deployment's ${serve.image}`)
    const owner = parsePostgresUrl(environment(migrate).get('MIGRATION_DATABASE_URL'))
    if (owner?.user !== service || owner.password !== `<secret ${service}-db-owner password>`)
      problems.push(
        `Job ${service}-migrate: MIGRATION_DATABASE_URL must be the owner ${service}'s, from Secret ${service}-db-owner`,
      )
    if (owner?.host !== endpointHost)
      problems.push(
        `Job ${service}-migrate: must connect straight to PostgreSQL (postgres-endpoint), not ${owner?.host}`,
      )
    const reads = secretReads(job).filter((r) => !r.startsWith('postgres-endpoint/'))
    if (reads.join() !== `${service}-db-owner/password`)
      problems.push(
        `Job ${service}-migrate: reads Secrets ${reads.join(', ')}; only ${service}-db-owner/password`,
      )
  }
  for (const w of workloads(objects)) {
    const admin = secretReads(w).some((r) => r.startsWith('postgres-admin/'))
    const allowed = w.name === 'database-bootstrap' || w.labels['app.kubernetes.io/component'] === 'database'
    if (admin && !allowed) problems.push(`${w.object.kind} ${w.name}: reads the admin Secret postgres-admin`)
  }
  return problems
}

// --- network policies -----------------------------------------------------------

function selects(selector: Any, labels: Record<string, string>): boolean {
  if (!selector) return false
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false
    if (e.operator === 'Exists' && !has) return false
    if (e.operator === 'DoesNotExist' && has) return false
  }
  // A selector in a Service is a plain map of labels.
  if (!selector.matchLabels && !selector.matchExpressions)
    for (const [key, value] of Object.entries(selector)) if (labels[key] !== value) return false
  return true
}

function podSelects(selector: Any, labels: Record<string, string>): boolean {
  return Object.keys(selector ?? {}).length === 0 || selects(selector, labels)
}

/** A peer of a rule, named: a workload of the render, `dns`, an address block, or `anywhere`. */
function peerNames(peer: Any, objects: K8sObject[]): string[] {
  if (peer.ipBlock) return [`ip:${peer.ipBlock.cidr}`]
  if (peer.namespaceSelector) {
    const ns = peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name']
    if (ns === 'kube-system' && peer.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns') return ['dns']
    return [`namespace:${JSON.stringify(peer.namespaceSelector)}`]
  }
  return workloads(objects)
    .filter((w) => podSelects(peer.podSelector, w.labels))
    .map((w) => w.name)
}

function policies(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === 'NetworkPolicy')
}

/** What the policies let a workload's pods reach (`egress`) or be reached by (`ingress`), as `peer:port`. */
export function allowed(objects: K8sObject[], name: string, direction: 'ingress' | 'egress'): string[] {
  const w = workload(objects, name)
  if (!w) return []
  const type = direction === 'ingress' ? 'Ingress' : 'Egress'
  const result = new Set<string>()
  for (const policy of policies(objects)) {
    if (!podSelects(policy.spec.podSelector, w.labels) || !policy.spec.policyTypes?.includes(type)) continue
    for (const rule of policy.spec[direction] ?? []) {
      const peers = rule[direction === 'ingress' ? 'from' : 'to']
      const names = peers ? peers.flatMap((p: Any) => peerNames(p, objects)) : ['anywhere']
      const ports = rule.ports ? rule.ports.map((p: Any) => String(p.port ?? 'any')) : ['any']
      for (const peer of names) for (const port of ports) result.add(`${peer}:${port}`)
    }
  }
  return [...result].sort()
}

/**
 * Default deny both ways for every pod; then exactly the traffic the design needs.
 * `expected` maps each workload to what it may reach and be reached by.
 */
export function networkProblems(
  objects: K8sObject[],
  expected: Record<string, { egress: string[]; ingress: string[] }>,
): string[] {
  const problems: string[] = []
  const deny = policies(objects).find(
    (p) =>
      Object.keys(p.spec.podSelector ?? {}).length === 0 &&
      p.spec.policyTypes?.includes('Ingress') &&
      p.spec.policyTypes?.includes('Egress') &&
      !p.spec.ingress &&
      !p.spec.egress,
  )
  if (!deny) problems.push('no default-deny NetworkPolicy (every pod, Ingress and Egress, no rule)')
  for (const w of workloads(objects)) {
    const covering = policies(objects).filter((p) => podSelects(p.spec.podSelector, w.labels))
    for (const type of ['Ingress', 'Egress'])
      if (!covering.some((p) => p.spec.policyTypes?.includes(type)))
        problems.push(`${w.object.kind} ${w.name}: no NetworkPolicy restricts its ${type.toLowerCase()}`)
    const want = expected[w.name]
    if (!want) {
      problems.push(`${w.object.kind} ${w.name}: no expected traffic declared for it in the test`)
      continue
    }
    for (const direction of ['egress', 'ingress'] as const) {
      const actual = allowed(objects, w.name, direction)
      if (JSON.stringify(actual) !== JSON.stringify([...want[direction]].sort()))
        problems.push(
          `${w.name} ${direction}: allowed ${actual.join(', ') || 'nothing'}; expected ${want[direction].join(', ') || 'nothing'}`,
        )
    }
    // Ingress only on ports the pod serves.
    const served = new Set(
      w.containers.flatMap((c) => (c.ports ?? []).map((p: Any) => String(p.containerPort))),
    )
    for (const entry of allowed(objects, w.name, 'ingress')) {
      const port = entry.slice(entry.lastIndexOf(':') + 1)
      if (!served.has(port)) problems.push(`${w.name}: ingress allowed on ${port}, which it does not serve`)
    }
  }
  return problems
}

// --- PgBouncer ------------------------------------------------------------------------

/** An ini file as sections of key = value, `;` comments and `%include` lines dropped. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>()
  let current: Map<string, string> | undefined
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith(';') || line.startsWith('#') || line.startsWith('%')) continue
    const section = /^\[(.+)\]$/.exec(line)
    if (section) {
      current = new Map()
      sections.set(section[1]!, current)
      continue
    }
    const eq = line.indexOf('=')
    if (eq > 0) current?.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim())
  }
  return sections
}

export function pgbouncerIni(objects: K8sObject[]): string | undefined {
  const w = workload(objects, 'pgbouncer')
  const mount = w?.pod.containers
    .find((c: Any) => c.name === 'pgbouncer')
    ?.volumeMounts?.find((m: Any) => m.mountPath === '/etc/pgbouncer/pgbouncer.ini')
  const volume = w?.pod.volumes?.find((v: Any) => v.name === mount?.name)
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume?.configMap?.name)
  return config?.data?.[mount?.subPath ?? 'pgbouncer.ini']
}

/**
 * PgBouncer pools per transaction, listens where the services connect, and the
 * services' prepared statements match what its version can carry.
 */
export function pgbouncerProblems(objects: K8sObject[], services: string[]): string[] {
  const problems: string[] = []
  const text = pgbouncerIni(objects)
  const w = workload(objects, 'pgbouncer')
  if (!text || !w) return ['the pgbouncer Deployment mounts no pgbouncer.ini from a ConfigMap']
  const ini = parseIni(text)
  const main = ini.get('pgbouncer') ?? new Map()
  if (main.get('pool_mode') !== 'transaction')
    problems.push(`pgbouncer.ini: pool_mode is ${main.get('pool_mode')}, not transaction`)
  if (/pool_mode\s*=/.test([...(ini.get('databases') ?? new Map()).values()].join('\n')))
    problems.push('pgbouncer.ini: a database entry overrides pool_mode')
  const container = w.pod.containers.find((c: Any) => c.name === 'pgbouncer')
  const listen = Number(main.get('listen_port'))
  const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'pgbouncer')
  if (resolvePort(container, container?.ports?.[0]?.name) !== listen || svc?.spec.ports?.[0]?.port !== listen)
    problems.push(`pgbouncer: listen_port ${listen}, its containerPort and its Service's port must agree`)
  const version = /:(\d+)\.(\d+)/.exec(container?.image ?? '')
  const carriesPrepared = version ? Number(version[1]) > 1 || Number(version[2]) >= 21 : false
  if (carriesPrepared && !(Number(main.get('max_prepared_statements')) > 0))
    problems.push(
      "pgbouncer.ini: PgBouncer 1.21+ needs max_prepared_statements > 0 for the services' prepared statements",
    )
  for (const service of services) {
    const serve = workload(objects, service)?.pod.containers[0]
    if (!serve) continue
    const env = environment(serve)
    const url = parsePostgresUrl(env.get('DATABASE_URL'))
    if (url && Number(url.port) !== listen)
      problems.push(`Deployment ${service}: DATABASE_URL port ${url.port}, PgBouncer listens on ${listen}`)
    const prepared = (env.get('DB_PREPARED_STATEMENTS') ?? 'true') !== 'false'
    if (prepared && !carriesPrepared)
      problems.push(
        `Deployment ${service}: DB_PREPARED_STATEMENTS must be false behind PgBouncer < 1.21 (${container?.image})`,
      )
  }
  return problems
}

// --- secrets, rollout order, namespaces ----------------------------------------------------

export const EXAMPLE_ANNOTATION = 'schema-per-service/example-secret'

/** Every Secret a pod reads exists in the render with that key (dev: the example Secrets). */
export function secretResolutionProblems(objects: K8sObject[]): string[] {
  const keys = new Map<string, Set<string>>()
  for (const s of objects.filter((o) => o.kind === 'Secret'))
    keys.set(baseName(s.metadata.name), new Set(Object.keys({ ...s.data, ...s.stringData })))
  const problems: string[] = []
  for (const w of workloads(objects))
    for (const read of secretReads(w)) {
      const [name, key] = read.split('/') as [string, string]
      if (!keys.has(name)) problems.push(`${w.object.kind} ${w.name}: Secret ${name} is not in the render`)
      else if (key !== '*' && !keys.get(name)!.has(key))
        problems.push(`${w.object.kind} ${w.name}: Secret ${name} has no key ${key}`)
    }
  return problems
}

/** Every Secret is a marked example (dev), or there is none at all (production: references only). */
export function secretContentProblems(objects: K8sObject[], mode: 'examples' | 'none'): string[] {
  const secrets = objects.filter((o) => o.kind === 'Secret')
  if (mode === 'none')
    return secrets.map((s) => `${describe(s)}: production must only refer to Secrets, not carry one`)
  return secrets
    .filter((s) => !s.metadata.annotations?.[EXAMPLE_ANNOTATION]?.includes('development only'))
    .map((s) => `${describe(s)}: not marked as a development example (${EXAMPLE_ANNOTATION})`)
}

const wave = (o: K8sObject | undefined) =>
  Number(o?.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0)

/**
 * The rollout order an orchestrator sees: namespace, then what the Jobs need,
 * then the bootstrap, then the migrations, then the rest; both Jobs are hooks that
 * replace their previous run (a Job's template is immutable).
 */
export function orderProblems(objects: K8sObject[], services: string[]): string[] {
  const problems: string[] = []
  const bootstrap = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'database-bootstrap')
  const jobs = [
    bootstrap,
    ...services.map((s) => objects.find((o) => o.kind === 'Job' && o.metadata.name === `${s}-migrate`)),
  ]
  for (const job of jobs) {
    const a = job?.metadata.annotations ?? {}
    if (!job) problems.push('a Job is missing (database-bootstrap or a migration)')
    else if (
      a['argocd.argoproj.io/hook'] !== 'Sync' ||
      a['argocd.argoproj.io/hook-delete-policy'] !== 'BeforeHookCreation' ||
      a['helm.sh/hook'] !== 'pre-install,pre-upgrade' ||
      a['helm.sh/hook-delete-policy'] !== 'before-hook-creation'
    )
      problems.push(
        `${describe(job)}: needs Argo CD (Sync, BeforeHookCreation) and Helm (pre-install,pre-upgrade, before-hook-creation) hook annotations`,
      )
  }
  const bootstrapWave = wave(bootstrap)
  for (const job of jobs.slice(1))
    if (!(wave(job) > bootstrapWave && wave(job) < 0))
      problems.push(`${job && describe(job)}: must run after the bootstrap and before wave 0`)
  const helmWeight = (o: K8sObject | undefined) =>
    Number(o?.metadata.annotations?.['helm.sh/hook-weight'] ?? 0)
  for (const job of jobs.slice(1))
    if (!(helmWeight(job) > helmWeight(bootstrap)))
      problems.push(`${job && describe(job)}: its Helm hook weight must follow the bootstrap's`)
  const needed = objects.filter(
    (o) =>
      o.kind === 'Secret' ||
      o.kind === 'NetworkPolicy' ||
      o.metadata.name.startsWith('database-bootstrap-sql') ||
      o.kind === 'StatefulSet',
  )
  for (const o of needed)
    if (!(wave(o) < bootstrapWave)) problems.push(`${describe(o)}: must be in a wave before the bootstrap's`)
  const namespace = objects.find((o) => o.kind === 'Namespace')
  if (!namespace || objects.some((o) => o !== namespace && !(wave(o) > wave(namespace))))
    problems.push('the Namespace must be in the first wave')
  for (const w of workloads(objects).filter((w) => w.object.kind === 'Deployment'))
    if (wave(w.object) < 0) problems.push(`Deployment ${w.name}: must not run before the migrations`)
  return problems
}

export function namespaceProblems(objects: K8sObject[]): string[] {
  return objects
    .filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== NAMESPACE)
    .map((o) => `${describe(o)}: namespace ${o.metadata.namespace}, expected ${NAMESPACE}`)
}
