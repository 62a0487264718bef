// What the manifests must agree with, read from the repository itself rather than
// repeated here: the services, their default ports, the lifecycle routes, the
// shutdown timings and the memory make bench measured.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { repoRoot } from './render.js'

/** A service is a folder in services/ with a drizzle.config.ts (as the ops CLI discovers them). */
export function serviceNames(): string[] {
  const dir = path.join(repoRoot, 'services')
  return readdirSync(dir)
    .filter((name) => existsSync(path.join(dir, name, 'drizzle.config.ts')))
    .sort()
}

/** The PORT default in the service's config (`serviceEnv({ port: 5008 })`). */
export function defaultPort(service: string): number {
  const source = readFileSync(path.join(repoRoot, 'services', service, 'src', 'config.ts'), 'utf8')
  const port = /serviceEnv\(\{\s*port:\s*(\d+)\s*\}\)/.exec(source)?.[1]
  if (!port) throw new Error(`services/${service}/src/config.ts: no serviceEnv({ port: N }) found`)
  return Number(port)
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
}

/** The shared packages' sources (wherever a package move puts a file, it is found here). */
function packageSources(): { file: string; text: string }[] {
  const packages = path.join(repoRoot, 'packages')
  return readdirSync(packages)
    .map((name) => path.join(packages, name, 'src'))
    .filter((dir) => existsSync(dir))
    .flatMap(sourceFiles)
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }))
}

/** The paths the shared lifecycle plugin serves (`app.get('/healthz', ...)`). */
export function lifecycleRoutes(): string[] {
  const file = packageSources().find(
    ({ text }) => /app\.get\(\s*'\/healthz'/.test(text) && /app\.get\(\s*'\/readyz'/.test(text),
  )
  if (!file) throw new Error('no package source registers both /healthz and /readyz')
  return [...file.text.matchAll(/app\.get\(\s*'(\/[^']*)'/g)].map((m) => m[1]!)
}

/** How long in-flight requests may take after the drain (runService's shutdownDelayMs default). */
export function finishAfterDrainMs(): number {
  for (const { text } of packageSources()) {
    const ms = /shutdownDelayMs \?\? ([\d_]+)/.exec(text)?.[1]
    if (ms) return Number(ms.replaceAll('_', ''))
  }
  throw new Error('no package source sets the shutdownDelayMs default (runService)')
}

/** SHUTDOWN_DRAIN_MS's default, for a Deployment that does not set it. */
export function defaultDrainMs(): number {
  for (const { text } of packageSources()) {
    const ms = /SHUTDOWN_DRAIN_MS: Type\.Integer\(\{[^}]*?default: ([\d_]+)/s.exec(text)?.[1]
    if (ms) return Number(ms.replaceAll('_', ''))
  }
  throw new Error('no package source declares SHUTDOWN_DRAIN_MS with a default')
}

/**
 * The peak RSS under load per service, in MiB, from bench/README.md's results
 * (make bench rewrites them): the largest of its rows for that service.
 */
export function benchPeakRssMib(): Map<string, number> {
  const readme = readFileSync(path.join(repoRoot, 'bench', 'README.md'), 'utf8')
  const peaks = new Map<string, number>()
  for (const m of readme.matchAll(
    /^\|[^|\n]+\|\s*([a-z][a-z0-9_-]*)\s*\|\s*([\d.]+) MB\s*\|\s*([\d.]+) MB\s*\|$/gm,
  )) {
    const service = m[1]!
    peaks.set(service, Math.max(peaks.get(service) ?? 0, Number(m[3])))
  }
  return peaks
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(path.join(repoRoot, ...parts), 'utf8')
}
