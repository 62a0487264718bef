import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { discoverServices, repoRoot, type ServiceInfo } from '../src/authoring/workspace.js'

/**
 * A throwaway repository (pnpm-workspace.yaml + services/<name>) holding a service
 * with the real service's drizzle.config.ts and dependencies (node_modules is a
 * link) but models of the test's own, so the real services/ never sees it and the
 * test doesn't depend on how the real models evolve.
 */
export function fakeService(name: 'auth' | 'billing', models: string) {
  const root = mkdtempSync(path.join(tmpdir(), 'ops-repo-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  writeFileSync(path.join(root, 'pnpm-workspace.yaml'), 'packages:\n  - services/*\n')
  const real = path.join(repoRoot(), 'services', name)
  const dir = path.join(root, 'services', name)
  mkdirSync(path.join(dir, 'src', 'db'), { recursive: true })
  for (const file of ['package.json', 'drizzle.config.ts'])
    copyFileSync(path.join(real, file), path.join(dir, file))
  symlinkSync(path.join(real, 'node_modules'), path.join(dir, 'node_modules'))
  const service = discoverServices(root).find((s) => s.name === name)!
  const setModels = (source: string) => writeFileSync(service.modelsFile, source)
  setModels(models)
  return { root, service, setModels, models: () => readFileSync(service.modelsFile, 'utf8') }
}

/** What a command printed, by stream. */

/** One statement on its own connection. */
export { query as sql } from './helpers.js'

export const otherServices = (service: ServiceInfo) =>
  ['auth', 'billing'].filter((name) => name !== service.schema)
