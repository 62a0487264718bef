// The design's invariants, on both overlays as rendered, each shown able to fail
// on a copy broken the way a careless edit would break it.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  allowed,
  containerProblems,
  drainProblems,
  EXAMPLE_ANNOTATION,
  environment,
  namespaceProblems,
  networkProblems,
  orderProblems,
  parseIni,
  pgbouncerIni,
  pgbouncerProblems,
  probeProblems,
  roleProblems,
  type ServiceFacts,
  secretContentProblems,
  secretReads,
  secretResolutionProblems,
  sizingProblems,
  workloads,
} from './support/invariants.js'
import { find, type K8sObject, k8sRoot, OVERLAYS, type Overlay, render, repoRoot } from './support/render.js'
import {
  benchPeakRssMib,
  defaultDrainMs,
  defaultPort,
  finishAfterDrainMs,
  lifecycleRoutes,
  readRepoFile,
  serviceNames,
} from './support/repository.js'

const facts: ServiceFacts = {
  services: serviceNames(),
  defaultPort,
  routes: lifecycleRoutes(),
  finishAfterDrainMs: finishAfterDrainMs(),
  defaultDrainMs: defaultDrainMs(),
}

test('the repository facts the checks rely on are found', () => {
  // auth and billing, and whatever `make new-service` added (each on a port of its own).
  expect(facts.services).toEqual(expect.arrayContaining(['auth', 'billing']))
  expect(['auth', 'billing'].map(defaultPort)).toEqual([5008, 5009])
  expect(new Set(facts.services.map(defaultPort)).size).toBe(facts.services.length)
  expect(facts.routes).toEqual(expect.arrayContaining(['/healthz', '/readyz']))
  expect(facts.finishAfterDrainMs).toBe(10_000)
  expect(facts.defaultDrainMs).toBe(5_000)
})

/**
 * Who may reach whom, by design (docs/kubernetes.md): each service takes
 * requests on its port and reaches PgBouncer; every service but auth also reaches auth
 * (its token keys, and billing's user checks); each one's migration Job, PgBouncer and
 * the bootstrap reach PostgreSQL.
 */
function expectedTraffic(overlay: Overlay): Record<string, { egress: string[]; ingress: string[] }> {
  const postgres = overlay === 'dev' ? 'postgres:5432' : 'ip:192.0.2.10/32:5432'
  const direct = { egress: ['dns:53', postgres], ingress: [] }
  const traffic: Record<string, { egress: string[]; ingress: string[] }> = {
    pgbouncer: { egress: ['dns:53', postgres], ingress: facts.services.map((s) => `${s}:6432`) },
    'database-bootstrap': direct,
  }
  for (const service of facts.services) {
    const toAuth = service === 'auth' ? [] : [`auth:${defaultPort('auth')}`]
    traffic[service] = {
      egress: [...toAuth, 'dns:53', 'pgbouncer:6432'],
      ingress: [`anywhere:${defaultPort(service)}`],
    }
    traffic[`${service}-migrate`] = direct
  }
  if (overlay === 'dev') {
    traffic.postgres = {
      egress: ['dns:53'],
      ingress: [
        ...facts.services.map((s) => `${s}-migrate:5432`),
        'database-bootstrap:5432',
        'pgbouncer:5432',
      ],
    }
  }
  return traffic
}

/**
 * make bench measures auth and billing; a service it does not measure yet (one
 * `make new-service` just made) is held to the largest peak it did measure.
 */
function peakRssPerService(): Map<string, number> {
  const measured = benchPeakRssMib()
  const largest = Math.max(...measured.values())
  return new Map(facts.services.map((service) => [service, measured.get(service) ?? largest]))
}

describe.each(OVERLAYS)('overlays/%s', (overlay) => {
  let objects: K8sObject[]
  beforeAll(async () => {
    objects = await render(overlay)
  })

  test("probes on the services' own routes and ports; Services and Prometheus on the same port", () => {
    expect(probeProblems(objects, facts)).toEqual([])
  })

  test('the grace period outlasts SHUTDOWN_DRAIN_MS plus the in-flight finish', () => {
    expect(drainProblems(objects, facts)).toEqual([])
  })

  test('every container: non-root, no privilege, read-only root, seccomp, requests and limits, pinned image', () => {
    expect(containerProblems(objects)).toEqual([])
  })

  test("the services' memory requests cover make bench's peak RSS under load", () => {
    expect(sizingProblems(objects, peakRssPerService(), facts.services)).toEqual([])
  })

  test("Deployments hold the runtime role's Secret only, migration Jobs the owner's, the bootstrap the admin's", () => {
    expect(roleProblems(objects, facts.services)).toEqual([])
  })

  test('NetworkPolicies: default deny for every pod, then exactly the traffic the design needs', () => {
    expect(networkProblems(objects, expectedTraffic(overlay))).toEqual([])
  })

  test('PgBouncer pools per transaction where the services connect, and carries their prepared statements', () => {
    expect(pgbouncerProblems(objects, facts.services)).toEqual([])
  })

  test('rollout order: namespace, policies and secrets, bootstrap, migrations, then the rest', () => {
    expect(orderProblems(objects, facts.services)).toEqual([])
  })

  test('everything lives in the one namespace', () => {
    expect(namespaceProblems(objects)).toEqual([])
  })
})

describe('overlays/dev', () => {
  let objects: K8sObject[]
  beforeAll(async () => {
    objects = await render('dev')
  })

  test('one replica each, PostgreSQL as a StatefulSet with its own volume', () => {
    for (const name of [...facts.services, 'pgbouncer'])
      expect(find(objects, 'Deployment', name).spec.replicas).toBe(1)
    const postgres = find(objects, 'StatefulSet', 'postgres')
    expect(postgres.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi')
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([])
  })

  test('every Secret is a marked example, and every Secret a pod reads is there with its key', () => {
    expect(secretContentProblems(objects, 'examples')).toEqual([])
    expect(secretResolutionProblems(objects)).toEqual([])
    // postgres-endpoint, postgres-admin, auth-jwt-keys, and each service's two roles'.
    expect(objects.filter((o) => o.kind === 'Secret').length).toBe(3 + 2 * facts.services.length)
  })

  test('the example passwords are the ones docker-compose uses in development', () => {
    const password = (name: string) => {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith(`${name}-`))!
      return Buffer.from(secret.data.password, 'base64').toString()
    }
    for (const service of facts.services) {
      expect(password(`${service}-db-owner`)).toBe(`${service}-dev-password`)
      expect(password(`${service}-db-app`)).toBe(`${service}_app-dev-password`)
    }
  })
})

describe('overlays/production', () => {
  let objects: K8sObject[]
  beforeAll(async () => {
    objects = await render('production')
  })

  test('no Secret at all: every one is referenced and created outside git', () => {
    expect(secretContentProblems(objects, 'none')).toEqual([])
  })

  test('three replicas per service, scaled by a HorizontalPodAutoscaler from three up, disruption budgets', () => {
    for (const service of facts.services) {
      const deployment = find(objects, 'Deployment', service)
      expect(deployment.spec.replicas).toBe(3)
      const hpa = find(objects, 'HorizontalPodAutoscaler', service)
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: service })
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3)
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas)
    }
    for (const w of workloads(objects).filter((w) => w.object.kind === 'Deployment')) {
      const pdb = find(objects, 'PodDisruptionBudget', w.name)
      expect(pdb.spec.selector.matchLabels).toEqual(w.object.spec.selector.matchLabels)
      expect(pdb.spec.maxUnavailable).toBe(1)
    }
    expect(find(objects, 'Deployment', 'pgbouncer').spec.replicas).toBe(2)
  })

  test('no in-cluster PostgreSQL: the direct connections go to one address block', () => {
    expect(objects.filter((o) => o.kind === 'StatefulSet')).toEqual([])
    const egress = allowed(objects, 'auth-migrate', 'egress')
    expect(egress).toEqual(['dns:53', 'ip:192.0.2.10/32:5432'])
  })

  test("the services' images come from the release, never the dev tag", () => {
    for (const service of facts.services) {
      const image = find(objects, 'Deployment', service).spec.template.spec.containers[0].image
      expect(image).toMatch(new RegExp(`/${service}:\\d+\\.\\d+\\.\\d+$`))
    }
  })

  test("every Secret production refers to, with each key, is in docs/kubernetes.md's instructions", () => {
    const section = readRepoFile('docs', 'kubernetes.md')
    expect(section).toContain('# Deploying on Kubernetes')
    const reads = [...new Set(workloads(objects).flatMap((w) => secretReads(w)))]
    expect(reads.length).toBeGreaterThan(5)
    for (const read of reads) {
      const [name, key] = read.split('/') as [string, string]
      // The command with its continuation lines (ending in a backslash).
      const command = new RegExp(`kubectl create secret generic ${name}\\b(?:[^\\n]*\\\\\\n)*[^\\n]*`).exec(
        section,
      )?.[0]
      expect(command, `README: kubectl create secret generic ${name}`).toBeDefined()
      if (key !== '*')
        expect(command, `README: ${name}'s key ${key}`).toMatch(new RegExp(`--from-(literal|file)=${key}=`))
    }
  })
})

describe('the checks catch what they are for', () => {
  let dev: K8sObject[]
  let production: K8sObject[]
  // A fresh copy for each test: each breaks its own.
  beforeEach(async () => {
    ;[dev, production] = await Promise.all([render('dev'), render('production')])
  })
  const auth = (objects: K8sObject[]) => find(objects, 'Deployment', 'auth').spec.template.spec
  const env = (container: { env: { name: string; value?: string }[] }, name: string) =>
    container.env.find((e) => e.name === name)!

  test('a probe on a path the service does not serve, or on another port', () => {
    auth(dev).containers[0].readinessProbe.httpGet.path = '/ready'
    auth(dev).containers[0].livenessProbe.httpGet.port = 8080
    expect(probeProblems(dev, facts)).toEqual([
      "Deployment auth: livenessProbe port 8080 is not the service's port 5008",
      'Deployment auth: readinessProbe on /ready, expected /readyz',
      'Deployment auth: readinessProbe path /ready is not a route the service serves',
    ])
  })

  test('PORT apart from the containerPort, and a Service that misses the pods', () => {
    env(auth(dev).containers[0], 'PORT').value = '5010'
    find(dev, 'Service', 'billing').spec.selector['app.kubernetes.io/component'] = 'migration'
    expect(probeProblems(dev, facts)).toEqual(
      expect.arrayContaining([
        "Deployment auth: PORT 5010, the service's default is 5008",
        "Service billing: its selector does not select the Deployment's pods",
      ]),
    )
  })

  test('a drain that the grace period cuts short', () => {
    env(auth(dev).containers[0], 'SHUTDOWN_DRAIN_MS').value = '25000'
    expect(drainProblems(dev, facts)).toEqual([
      'Deployment auth: terminationGracePeriodSeconds 30 must exceed SHUTDOWN_DRAIN_MS 25000 ms + 10000 ms for in-flight requests',
    ])
  })

  test('a root container, a writable root, a kept capability, a missing limit', () => {
    const pgbouncer = find(dev, 'Deployment', 'pgbouncer').spec.template.spec
    pgbouncer.securityContext.runAsUser = 0
    pgbouncer.initContainers[0].securityContext.readOnlyRootFilesystem = false
    delete find(dev, 'Job', 'billing-migrate').spec.template.spec.containers[0].resources.limits.memory
    find(dev, 'StatefulSet', 'postgres').spec.template.spec.containers[0].securityContext.capabilities.add = [
      'NET_RAW',
    ]
    expect(containerProblems(dev)).toEqual([
      'Deployment pgbouncer container write-config: runAsUser must be a non-zero uid (a named USER cannot be checked by the kubelet)',
      'Deployment pgbouncer container write-config: readOnlyRootFilesystem is not true',
      'Deployment pgbouncer container pgbouncer: runAsUser must be a non-zero uid (a named USER cannot be checked by the kubelet)',
      'StatefulSet postgres container postgres: must drop ALL capabilities and add none',
      'Job billing-migrate container migrate: needs a memory request and limit',
    ])
  })

  test('a memory request below the measured peak', () => {
    auth(dev).containers[0].resources.requests.memory = '96Mi'
    expect(
      sizingProblems(
        dev,
        new Map([
          ['auth', 117],
          ['billing', 117],
        ]),
        ['auth', 'billing'],
      ),
    ).toEqual(['Deployment auth: memory request 96Mi is below the 117 MiB peak under load'])
  })

  test('a Deployment given the owner role, a Job given the runtime role or PgBouncer', () => {
    const container = auth(production).containers[0]
    container.env.find((e: { name: string }) => e.name === 'APP_DB_PASSWORD').valueFrom.secretKeyRef.name =
      'auth-db-owner'
    const job = find(production, 'Job', 'billing-migrate').spec.template.spec.containers[0]
    env(job, 'MIGRATION_DATABASE_URL').value =
      'postgres://billing_app:$(OWNER_DB_PASSWORD)@pgbouncer:6432/app'
    job.command = ['node', 'dist/server.js']
    expect(roleProblems(production, facts.services)).toEqual([
      "Deployment auth: DATABASE_URL must be auth_app's, its password from Secret auth-db-app",
      'Deployment auth: reads Secrets auth-db-owner/password; only auth-db-app/password',
      'Job billing-migrate: must run node dist/migrate.js',
      "Job billing-migrate: MIGRATION_DATABASE_URL must be the owner billing's, from Secret billing-db-owner",
      'Job billing-migrate: must connect straight to PostgreSQL (postgres-endpoint), not pgbouncer',
    ])
  })

  test('a migration Job on another image than its Deployment, and the admin Secret in a service', () => {
    find(production, 'Job', 'auth-migrate').spec.template.spec.containers[0].image =
      'registry.example.com/schema-per-service/auth:0.9.0'
    auth(production).containers[0].env.push({
      name: 'PGPASSWORD',
      valueFrom: { secretKeyRef: { name: 'postgres-admin', key: 'password' } },
    })
    expect(roleProblems(production, facts.services)).toEqual([
      'Deployment auth: reads Secrets auth-db-app/password, postgres-admin/password; only auth-db-app/password',
      "Job auth-migrate: image registry.example.com/schema-per-service/auth:0.9.0 is not the Deployment's registry.example.com/schema-per-service/auth:1.0.0",
      'Deployment auth: reads the admin Secret postgres-admin',
    ])
  })

  test('no default deny; a service allowed to reach PostgreSQL; a pod no policy restricts', () => {
    const withoutDeny = dev.filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny'))
    expect(networkProblems(withoutDeny, expectedTraffic('dev'))).toEqual(
      expect.arrayContaining([
        'no default-deny NetworkPolicy (every pod, Ingress and Egress, no rule)',
        'Job auth-migrate: no NetworkPolicy restricts its ingress',
      ]),
    )
    find(dev, 'NetworkPolicy', 'postgres-clients').spec.podSelector.matchExpressions[0].values.push('api')
    expect(networkProblems(dev, expectedTraffic('dev'))).toEqual(
      expect.arrayContaining([
        'auth egress: allowed dns:53, pgbouncer:6432, postgres:5432; expected dns:53, pgbouncer:6432',
        'billing egress: allowed auth:5008, dns:53, pgbouncer:6432, postgres:5432; expected auth:5008, dns:53, pgbouncer:6432',
      ]),
    )
  })

  test('ingress opened on a port the pod does not serve', () => {
    find(dev, 'NetworkPolicy', 'auth-api').spec.ingress[0].ports.push({ protocol: 'TCP', port: 9229 })
    expect(networkProblems(dev, expectedTraffic('dev'))).toEqual([
      'auth ingress: allowed anywhere:5008, anywhere:9229; expected anywhere:5008',
      'auth: ingress allowed on 9229, which it does not serve',
    ])
  })

  test('PgBouncer in session mode, a database entry overriding it, prepared statements it cannot carry', () => {
    const config = dev.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pgbouncer-config'))!
    config.data['pgbouncer.ini'] = config.data['pgbouncer.ini']
      .replace('pool_mode = transaction', 'pool_mode = session')
      .replace('[databases]', '[databases]\nreports = host=x pool_mode=session')
    const pgbouncer = find(dev, 'Deployment', 'pgbouncer').spec.template.spec
    for (const c of [...pgbouncer.initContainers, ...pgbouncer.containers])
      c.image = 'docker.io/example/pgbouncer:1.18.0'
    // (auth's and billing's: any other service is caught the same way.)
    expect(pgbouncerProblems(dev, ['auth', 'billing'])).toEqual([
      'pgbouncer.ini: pool_mode is session, not transaction',
      'pgbouncer.ini: a database entry overrides pool_mode',
      'Deployment auth: DB_PREPARED_STATEMENTS must be false behind PgBouncer < 1.21 (docker.io/example/pgbouncer:1.18.0)',
      'Deployment billing: DB_PREPARED_STATEMENTS must be false behind PgBouncer < 1.21 (docker.io/example/pgbouncer:1.18.0)',
    ])
  })

  test('an unmarked Secret in dev, any Secret in production, a Secret a pod reads but nobody created', () => {
    const example = dev.find((o) => o.kind === 'Secret')!
    delete example.metadata.annotations![EXAMPLE_ANNOTATION]
    const leaked = structuredClone(example)
    production.push(leaked)
    dev.splice(
      dev.findIndex((o) => o.kind === 'Secret' && o.metadata.name.startsWith('billing-db-app-')),
      1,
    )
    expect(secretContentProblems(dev, 'examples')).toEqual([
      `Secret ${example.metadata.name}: not marked as a development example (${EXAMPLE_ANNOTATION})`,
    ])
    expect(secretContentProblems(production, 'none')).toEqual([
      `Secret ${leaked.metadata.name}: production must only refer to Secrets, not carry one`,
    ])
    expect(secretResolutionProblems(dev)).toEqual([
      'Deployment billing: Secret billing-db-app is not in the render',
      'Deployment pgbouncer: Secret billing-db-app is not in the render',
      'Job database-bootstrap: Secret billing-db-app is not in the render',
    ])
  })

  test('a migration Job ordered before the bootstrap, and one that is not a replacing hook', () => {
    const job = find(dev, 'Job', 'auth-migrate')
    job.metadata.annotations!['argocd.argoproj.io/sync-wave'] = '-3'
    delete find(dev, 'Job', 'billing-migrate').metadata.annotations!['argocd.argoproj.io/hook-delete-policy']
    expect(orderProblems(dev, facts.services)).toEqual([
      'Job billing-migrate: needs Argo CD (Sync, BeforeHookCreation) and Helm (pre-install,pre-upgrade, before-hook-creation) hook annotations',
      'Job auth-migrate: must run after the bootstrap and before wave 0',
    ])
  })

  test('an object outside the namespace', () => {
    find(production, 'Service', 'pgbouncer').metadata.namespace = 'default'
    expect(namespaceProblems(production)).toEqual([
      'Service pgbouncer: namespace default, expected schema-per-service',
    ])
  })
})

describe('the bootstrap Job', () => {
  test("runs the repository's bootstrap SQL, byte for byte", () => {
    const copy = readFileSync(
      path.join(k8sRoot, 'base', 'database-bootstrap', 'bootstrap-service.sql'),
      'utf8',
    )
    expect(
      copy === readRepoFile('infra', 'postgres', 'bootstrap-service.sql'),
      'infra/k8s/base/database-bootstrap/bootstrap-service.sql differs from infra/postgres/bootstrap-service.sql: cp the latter over the former',
    ).toBe(true)
  })

  test("bootstraps every service, with its two roles' passwords from their Secrets", async () => {
    const objects = await render('production')
    const container = find(objects, 'Job', 'database-bootstrap').spec.template.spec.containers[0]
    const env = environment(container)
    expect(env.get('SERVICES')?.split(' ')).toEqual(facts.services)
    for (const service of facts.services) {
      const upper = service.toUpperCase()
      expect(env.get(`${upper}_DB_PASSWORD`)).toBe(`<secret ${service}-db-owner password>`)
      expect(env.get(`${upper}_APP_DB_PASSWORD`)).toBe(`<secret ${service}-db-app password>`)
      expect(env.get(`${upper}_STATEMENT_TIMEOUT`)).toMatch(/^\d+(ms|s|min)$/)
    }
    expect(env.get('PGUSER')).toBe('<secret postgres-admin username>')
    const mount = container.volumeMounts[0].mountPath
    expect(container.command.join('\n')).toContain(`\\i ${mount}/bootstrap-service.sql`)
  })

  test("the PgBouncer userlist holds every service's runtime role", async () => {
    const objects = await render('dev')
    const init = find(objects, 'Deployment', 'pgbouncer').spec.template.spec.initContainers[0]
    const env = environment(init)
    for (const service of facts.services)
      expect(env.get(`${service.toUpperCase()}_APP_DB_PASSWORD`)).toBe(`<secret ${service}-db-app password>`)
    const ini = parseIni(pgbouncerIni(objects)!)
    expect(ini.get('pgbouncer')?.get('auth_file')).toBe('/etc/pgbouncer/generated/userlist.txt')
  })
})

test('the dev example signing key is a private Ed25519 key (auth refuses anything else)', async () => {
  const { createPrivateKey } = await import('node:crypto')
  const pem = readFileSync(path.join(k8sRoot, 'overlays', 'dev', 'example-secrets', 'auth-jwt-current.pem'))
  expect(createPrivateKey(pem).asymmetricKeyType).toBe('ed25519')
  expect(repoRoot).toBe(path.resolve(k8sRoot, '../..'))
})
