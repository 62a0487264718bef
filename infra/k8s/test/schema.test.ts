// Every overlay renders with kubectl kustomize, and every object it renders is a
// valid Kubernetes object: the API schema's types and required fields, and no
// field the schema does not declare.
import { describe, expect, test } from 'vitest'
import { find, kustomize, OVERLAYS, parseObjects, render } from './support/render.js'
import { schemaProblems, unknownFields } from './support/schema.js'

describe.each(OVERLAYS)('overlays/%s', (overlay) => {
  test('renders, and every object passes the Kubernetes API schema with no unknown field', async () => {
    const objects = await render(overlay)
    expect(objects.length).toBeGreaterThan(10)
    expect(objects.flatMap(schemaProblems)).toEqual([])
    expect(objects.flatMap(unknownFields)).toEqual([])
  })
})

describe('the validation itself', () => {
  test('a misspelled field passes the schema validator but not the unknown-field walk', async () => {
    const deployment = find(await render('production'), 'Deployment', 'auth')
    const container = deployment.spec.template.spec.containers[0]
    container.readinesProbe = container.readinessProbe
    delete container.readinessProbe
    // What kubernetes-models' validator alone would let through:
    expect(schemaProblems(deployment)).toEqual([])
    expect(unknownFields(deployment)).toEqual([
      'Deployment auth.spec.template.spec.containers[0].readinesProbe: unknown field (not in Container)',
    ])
  })

  test('unknown fields are found at any depth, in arrays and beside maps', async () => {
    const objects = await render('dev')
    const job = find(objects, 'Job', 'auth-migrate')
    job.spec.template.spec.initContainers[0].env[0].valueFrom.secretKeyRef.optionl = true
    job.metadata.labels!['free-form/labels-are-a-map'] = 'fine'
    job.spec.ttlSecondAfterFinished = 60
    const policy = find(objects, 'NetworkPolicy', 'billing-api')
    policy.spec.egress[1].to[0].podSelector.matchLabel = {}
    expect([...unknownFields(job), ...unknownFields(policy)]).toEqual([
      'Job auth-migrate.spec.template.spec.initContainers[0].env[0].valueFrom.secretKeyRef.optionl: unknown field (not in SecretKeySelector)',
      'Job auth-migrate.spec.ttlSecondAfterFinished: unknown field (not in JobSpec)',
      'NetworkPolicy billing-api.spec.egress[1].to[0].podSelector.matchLabel: unknown field (not in LabelSelector)',
    ])
  })

  test('wrong types, missing required fields and unknown kinds fail the schema', async () => {
    const objects = await render('dev')
    const service = find(objects, 'Service', 'billing')
    service.spec.ports[0].port = '5009'
    const pdb = find(objects, 'PodDisruptionBudget', 'auth')
    pdb.apiVersion = 'policy/v1beta1'
    const deployment = find(objects, 'Deployment', 'pgbouncer')
    delete deployment.spec.selector
    expect(schemaProblems(service)).toEqual(['Service billing: data/spec/ports/0/port must be integer'])
    expect(schemaProblems(pdb)).toEqual([
      'PodDisruptionBudget auth: no schema for policy/v1beta1 PodDisruptionBudget',
    ])
    expect(schemaProblems(deployment)).toEqual([
      'Deployment pgbouncer: data/spec must have required property selector',
    ])
  })

  test('a kustomization kustomize refuses fails the render with its message', async () => {
    const broken =
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [missing.yaml]\n'
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const path = await import('node:path')
    const dir = mkdtempSync(path.join(tmpdir(), 'kustomize-'))
    try {
      writeFileSync(path.join(dir, 'kustomization.yaml'), broken)
      await expect(kustomize(dir)).rejects.toThrow(/missing\.yaml/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    expect(parseObjects('a: 1\n---\n')).toEqual([{ a: 1 }])
  })
})
