// A PostgreSQL of the outage drills' own (embedded, on a fixed free port), which
// they stop and start at will while the rest of the run keeps its server.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type EmbeddedPostgres, freePort, startEmbeddedPostgres } from '@app/db/embedded'
import { countFault } from './figures.js'

export interface OwnPostgres {
  port: number
  /** Superuser URL of `database` on this server. */
  url(database?: string): string
  start(): Promise<void>
  /** A fast shutdown (SIGINT): sessions are cut, committed data stays. */
  stop(options?: { fault?: string }): Promise<void>
  destroy(): Promise<void>
}

export async function ownPostgres(): Promise<OwnPostgres> {
  const parent = mkdtempSync(path.join(tmpdir(), 'drills-pg-'))
  // As root the server runs as `postgres`; where it can enter, the data stays here
  // (and goes with `parent`) instead of moving to a directory under /var/tmp.
  chmodSync(parent, 0o755)
  const dataDir = path.join(parent, 'data')
  const port = await freePort()
  const password = 'drills'
  let server: EmbeddedPostgres | undefined
  const own: OwnPostgres = {
    port,
    url: (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    async start() {
      // Durable settings (no unsafeFast): the drill counts rows across restarts.
      server = await startEmbeddedPostgres({ dataDir, port, password, persistent: true })
    },
    async stop(options = {}) {
      if (options.fault) countFault(options.fault)
      await server?.stop()
      server = undefined
    },
    async destroy() {
      await own.stop()
      rmSync(parent, { recursive: true, force: true })
    },
  }
  await own.start()
  return own
}
