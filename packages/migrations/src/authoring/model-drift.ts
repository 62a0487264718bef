// "Someone changed the models and forgot add-migration": the service's Drizzle
// models (src/db/schema.ts, loaded through tsx) against the snapshot of its last
// migration. Any SQL between the two is a migration nobody generated yet.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  diffSnapshots,
  drizzleKit,
  emptySnapshot,
  journalEntries,
  readSnapshot,
  type Snapshot,
  snapshotPath,
} from './snapshots.js'
import type { ServiceInfo } from './workspace.js'

async function importTs(file: string): Promise<Record<string, unknown>> {
  const { tsImport } = await import('tsx/esm/api')
  // A fresh namespace per call, so an edited file is read again.
  return (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>
}

/** The snapshot drizzle-kit would write for the service's models now. */
export async function modelSnapshot(modelsFile: string, configFile?: string): Promise<Snapshot> {
  // drizzle.config.ts's `casing` changes column names, so generate sees it too.
  let casing: 'snake_case' | 'camelCase' | undefined
  if (configFile && existsSync(configFile)) {
    const config = (await importTs(configFile)).default as { casing?: typeof casing } | undefined
    casing = config?.casing
  }
  const models = await importTs(modelsFile)
  const { generateDrizzleJson } = await drizzleKit()
  return generateDrizzleJson(models, undefined, undefined, casing) as unknown as Snapshot
}

export interface ModelDrift {
  /** The migration whose snapshot the models were compared with; null when there is none. */
  lastMigration: string | null
  /** The SQL a new migration would hold; empty when the models match. */
  statements: string[]
}

export async function modelDrift(
  service: Pick<ServiceInfo, 'dir' | 'modelsFile' | 'migrationsFolder'>,
): Promise<ModelDrift> {
  const entries = journalEntries(service.migrationsFolder)
  const last = entries.at(-1)
  let snapshot = emptySnapshot()
  if (last) {
    const file = snapshotPath(service.migrationsFolder, last)
    if (!existsSync(file)) throw new Error(`${file} is missing: drizzle-kit writes it with each migration`)
    snapshot = readSnapshot(file)
  }
  const current = await modelSnapshot(service.modelsFile, path.join(service.dir, 'drizzle.config.ts'))
  return {
    lastMigration: last ? `${last.tag}.sql` : null,
    statements: await diffSnapshots(snapshot, current),
  }
}
