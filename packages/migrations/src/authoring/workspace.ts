// Where the monorepo is and which services it has. A service is a folder under
// services/ with a drizzle.config.ts; its folder name is its schema and its role.
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export function repoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`)
  }
}

export interface ServiceInfo {
  name: string
  dir: string
  /** The Postgres schema it owns; also its login role. */
  schema: string
  migrationsFolder: string
  /** The Drizzle schema file (models). */
  modelsFile: string
  /** The compiled entry point that `make run` and the images start. */
  entry: string
}

export function discoverServices(root = repoRoot()): ServiceInfo[] {
  const servicesDir = path.join(root, 'services')
  if (!existsSync(servicesDir)) return []
  return readdirSync(servicesDir, { withFileTypes: true })
    .filter(
      (entry) => entry.isDirectory() && existsSync(path.join(servicesDir, entry.name, 'drizzle.config.ts')),
    )
    .map((entry) => {
      const dir = path.join(servicesDir, entry.name)
      return {
        name: entry.name,
        dir,
        schema: entry.name,
        migrationsFolder: path.join(dir, 'drizzle'),
        modelsFile: path.join(dir, 'src', 'db', 'schema.ts'),
        entry: path.join(dir, 'dist', 'server.js'),
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

export class UsageError extends Error {
  override name = 'UsageError'
}

/** The service named by `svc=`, or a one-line error listing the valid ones. */
export function requireService(name: string | undefined, services = discoverServices()): ServiceInfo {
  const valid = services.map((s) => s.name).join(', ')
  if (!name) throw new UsageError(`svc is required: svc=<service>, one of: ${valid}`)
  const service = services.find((s) => s.name === name)
  if (!service) throw new UsageError(`unknown service '${name}': svc must be one of: ${valid}`)
  return service
}
