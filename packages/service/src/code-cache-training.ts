// Build time only (scripts/bundle-service.mjs): the training start that takes a service
// bundle's code cache (code-cache.ts says what it is and why), and what the build does
// when that start fails. Kept out of code-cache.ts, which every service runs at start.
//
// The training start is the built service itself, started with a placeholder config and
// no database: it builds its app, answers its probes in process and writes the cache
// before it would listen. It can fail as any start can (a config rule the placeholder
// breaks, a route that throws while registering, a hung promise). A build must not fail
// for that, nor ship a service without any cache: it writes a cache of the bare compile
// (about a third of the gain) and says why, in words the build's reader can act on.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readCacheKind, TRAINING_VARIABLE, writeCompileOnlyCache } from './code-cache.js'

export type TrainingResult = { cache: 'trained' } | { cache: 'compile-only'; why: string }

export function trainCodeCache(options: {
  /** The bundle whose cache is taken (dist/server.cjs). */
  bundleFile: string
  /** What starts it through runBundle (dist/server.js). */
  entry: string
  cwd: string
  /**
   * The training start's whole environment besides PATH and the training variable, given
   * a scratch directory that is removed afterwards (auth writes its development key
   * there). Built by the caller, never inherited, so a shell's DATABASE_URL or LOG_LEVEL
   * cannot change what a build produces.
   */
  env: (scratchDir: string) => Record<string, string>
  timeoutMs?: number
}): TrainingResult {
  const scratch = mkdtempSync(path.join(tmpdir(), 'code-cache-training-'))
  try {
    const run = spawnSync(process.execPath, [options.entry], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, ...options.env(scratch), [TRAINING_VARIABLE]: '1' },
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    })
    if (run.status === 0 && readCacheKind(options.bundleFile) === 'trained') return { cache: 'trained' }
    writeCompileOnlyCache(options.bundleFile)
    return { cache: 'compile-only', why: whyItFailed(run) }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** An exception's first line, else the start's own last word (a config error), else how it ended. */
function whyItFailed(run: ReturnType<typeof spawnSync>): string {
  const error = run.error as NodeJS.ErrnoException | undefined
  if (error?.code === 'ETIMEDOUT') return 'it did not finish in time'
  if (error) return error.message
  const lines = String(run.stderr ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('Node.js v'))
  const thrown = lines.find((line) => /^\w*Error\b/.test(line))
  if (thrown) return thrown
  if (lines.length > 0) return lines.at(-1)!
  if (run.signal) return `killed by ${run.signal}`
  return run.status === 0 ? 'it exited 0 without writing the cache' : `exit ${run.status}`
}
