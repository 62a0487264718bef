// The services' image (infra/docker/Dockerfile), which the manifests run: a Node
// LTS line still supported, pinned to one release, the same in both stages.
import { expect, test } from 'vitest'
import { find, render } from './support/render.js'
import { readRepoFile } from './support/repository.js'

/** End of life of the Node LTS lines (the Node.js release schedule). */
const LTS_END_OF_LIFE: Record<number, string> = { 22: '2027-04-30', 24: '2028-04-30', 26: '2029-04-30' }

test('the base image is a supported Node LTS release, pinned exactly, for every stage', () => {
  const dockerfile = readRepoFile('infra', 'docker', 'Dockerfile')
  const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]
  const m = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/.exec(image ?? '')
  expect(m, `NODE_IMAGE ${image}: node:<major>.<minor>.<patch>-<debian>-slim`).not.toBeNull()
  const endOfLife = LTS_END_OF_LIFE[Number(m![1])]
  expect(endOfLife, `Node ${m![1]} is not an LTS line`).toBeDefined()
  expect(
    new Date(endOfLife!).getTime(),
    `Node ${m![1]} reached its end of life on ${endOfLife}`,
  ).toBeGreaterThan(Date.now())
  const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((s) => s[1])
  expect(stages).toEqual([`\${NODE_IMAGE}`, `\${NODE_IMAGE}`])
})

test('the dev overlay runs the PostgreSQL major docker-compose runs', async () => {
  const compose = /^\s+image: postgres:(\d+)$/m.exec(readRepoFile('docker-compose.yml'))?.[1]
  const image = find(await render('dev'), 'StatefulSet', 'postgres').spec.template.spec.containers[0].image
  expect(image).toMatch(new RegExp(`^postgres:${compose}\\.\\d+-[a-z]+$`))
})
