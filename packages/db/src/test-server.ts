import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from './embedded.js'

export interface TestServer {
  /** A superuser (or database owner with CREATEDB and CREATEROLE) URL. */
  adminUrl: string
  /** Where it came from, for the run's first log line. */
  source: 'TEST_DATABASE_URL' | 'embedded'
  stop(): Promise<void>
}

/** The server for a test run: TEST_DATABASE_URL if set, else a throwaway embedded one. */
export async function startTestServer(env: NodeJS.ProcessEnv = process.env): Promise<TestServer> {
  const url = env.TEST_DATABASE_URL
  if (url) return { adminUrl: url, source: 'TEST_DATABASE_URL', stop: async () => {} }
  const parent = mkdtempSync(path.join(tmpdir(), 'pg-test-'))
  // Run as root, the server runs as the `postgres` user, which must reach its data directory.
  chmodSync(parent, 0o755)
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(parent, 'data'),
    persistent: false,
    unsafeFast: true,
  })
  return {
    adminUrl: embedded.adminUrl,
    source: 'embedded',
    stop: async () => {
      await embedded.stop()
      rmSync(parent, { recursive: true, force: true })
    },
  }
}
