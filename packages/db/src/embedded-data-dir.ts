// Where the embedded server keeps a cluster. For root it runs as `postgres`, which
// must enter every directory above its data directory. Where it cannot (make dev's
// <repo>/.dev/postgres in a checkout under /root, a private TMPDIR) the cluster
// lives in a directory of ours that it can reach, and the requested path becomes a
// symbolic link to it: callers, `make stop` and `make clean` keep the path they know,
// and nobody's home directory has to be opened up. (/var/tmp outlives reboots, but a
// system cleaner may delete files there unused for weeks: this is for dev data only.)
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {
  blockedFor,
  describeDirectory,
  isAlive,
  ownDirectory,
  type ServerUser,
  sharedDirectory,
} from './embedded-server-user.js'

export interface ClusterDirectory {
  /** The directory the server is given: the data directory itself, or where it lives instead. */
  path: string
  /** Deletes the cluster (and the link to it). */
  remove(): void
}

export function clusterDirectory(
  dataDir: string,
  runAs: ServerUser | undefined,
  log: (line: string) => void,
): ClusterDirectory {
  const inPlace = (dir: string) => ({
    path: dir,
    remove: () => rmSync(dataDir, { recursive: true, force: true }),
  })
  if (!runAs) return inPlace(dataDir)
  const link = linkTarget(dataDir)
  if (link !== undefined && link === movedPath(dataDir, runAs)) return moved(dataDir, runAs, log)
  const dir = link === undefined ? dataDir : path.resolve(path.dirname(dataDir), link)
  mkdirSync(path.dirname(dir), { recursive: true })
  const blocked = blockedFor(runAs, path.dirname(dir))
  if (!blocked) return inPlace(dir)
  if (link !== undefined || (existsSync(dir) && readdirSync(dir).length > 0)) {
    throw new Error(
      `the ${runAs.name} user, which runs PostgreSQL for root, cannot enter ${describeDirectory(blocked)}, so it cannot use the data directory ${dataDir}: move that directory where the user can enter, or run as a regular user`,
    )
  }
  if (existsSync(dir)) rmdirSync(dir)
  const home = path.dirname(movedPath(dataDir, runAs))
  // Here while no link leads to it: `make clean` removed the link, not the cluster.
  if (existsSync(home)) removeUnlessRunning(home, dataDir)
  symlinkSync(movedPath(dataDir, runAs), dataDir)
  return moved(dataDir, runAs, log, blocked)
}

/** Where the cluster for `dataDir` lives when the server user cannot reach `dataDir`. */
function movedPath(dataDir: string, runAs: ServerUser): string {
  const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 16)
  return path.join(sharedDirectory(runAs), 'clusters', key, 'pgdata')
}

function moved(
  dataDir: string,
  runAs: ServerUser,
  log: (line: string) => void,
  blocked?: string,
): ClusterDirectory {
  const dir = movedPath(dataDir, runAs)
  const home = path.dirname(dir)
  const clusters = ownDirectory(path.dirname(home))
  // Created after the link, so that removeAbandoned never sees a home without its link.
  ownDirectory(home)
  writeFileSync(path.join(home, 'origin'), dataDir)
  removeAbandoned(clusters)
  log(
    `${blocked ? `the ${runAs.name} user cannot enter ${blocked}: ` : ''}the cluster lives in ${dir}, where it can, and ${dataDir} links to it`,
  )
  return {
    path: dir,
    remove() {
      rmSync(home, { recursive: true, force: true })
      if (linkTarget(dataDir) === dir) rmSync(dataDir, { force: true })
    },
  }
}

/** Clusters whose requested path no longer links to them (make clean, a deleted checkout). */
function removeAbandoned(clusters: string): void {
  for (const key of readdirSync(clusters)) {
    const home = path.join(clusters, key)
    let origin: string
    try {
      origin = readFileSync(path.join(home, 'origin'), 'utf8')
    } catch {
      continue
    }
    if (linkTarget(origin) === path.join(home, 'pgdata') || serverPid(home)) continue
    rmSync(home, { recursive: true, force: true })
  }
}

function removeUnlessRunning(home: string, dataDir: string): void {
  const pid = serverPid(home)
  if (pid) {
    throw new Error(
      `a PostgreSQL server (pid ${pid}) still runs on ${path.join(home, 'pgdata')}, although ${dataDir} no longer links to it: stop it (kill -INT ${pid}) and retry`,
    )
  }
  rmSync(home, { recursive: true, force: true })
}

function serverPid(home: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(home, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

function linkTarget(file: string): string | undefined {
  try {
    return readlinkSync(file)
  } catch {
    return undefined
  }
}
