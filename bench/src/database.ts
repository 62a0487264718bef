// The PostgreSQL the benchmarks run against: BENCH_DATABASE_URL (a superuser URL),
// or a fresh embedded server with default (durable) settings, started and removed
// by the run. Every figure in one report comes from the same server.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase, describeTarget, type ScratchDatabase } from '@app/db'
import { startEmbeddedPostgres } from '@app/db/embedded'

export interface BenchServer {
  adminUrl: string
  description: string
  stop(): Promise<void>
}

export async function startBenchServer(env: NodeJS.ProcessEnv): Promise<BenchServer> {
  if (env.BENCH_DATABASE_URL) {
    return {
      adminUrl: env.BENCH_DATABASE_URL,
      description: `${describeTarget(env.BENCH_DATABASE_URL)} (BENCH_DATABASE_URL)`,
      stop: async () => {},
    }
  }
  const parent = mkdtempSync(path.join(tmpdir(), 'pg-bench-'))
  chmodSync(parent, 0o755)
  const server = await startEmbeddedPostgres({ dataDir: path.join(parent, 'data'), persistent: false })
  return {
    adminUrl: server.adminUrl,
    description: `embedded PostgreSQL 17 on 127.0.0.1:${server.port}`,
    stop: async () => {
      await server.stop()
      rmSync(parent, { recursive: true, force: true })
    },
  }
}

let counter = 0
export function benchDatabase(adminUrl: string, purpose: string): Promise<ScratchDatabase> {
  return createScratchDatabase(adminUrl, { prefix: `bench_${process.pid}_${purpose}_${counter++}` })
}
