// "Someone altered the database by hand": a live database's schema against what the
// service's migrations produce. The reference is built, not guessed: a scratch
// database on the same server, bootstrapped and migrated as the service's role to
// exactly the migrations the live ledger records, then both catalogs are compared.
// Only the service's own schema is read.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createScratchDatabase } from '@app/db'
import pg from 'pg'
import {
  type CatalogDifference,
  diffCatalogs,
  journalPath,
  migrate,
  readCatalog,
  readJournal,
  type StatusReport,
  status,
} from '../index.js'
import { bootstrapServices } from './bootstrap.js'
import type { Env } from './roles.js'
import { ownerUrl } from './roles.js'
import type { ServiceInfo } from './workspace.js'

export interface LiveDrift {
  /** False when the service was never migrated on this database: nothing to compare. */
  deployed: boolean
  status?: StatusReport
  /** Head (migrations recorded in the live ledger) -> live. */
  differences: CatalogDifference[]
}

async function ledgerExists(adminUrl: string, schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'ops-check' })
  await client.connect()
  try {
    // pg_catalog, not to_regclass: needs no privilege on the service's schema.
    const { rowCount } = await client.query(
      `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = '__drizzle_migrations'`,
      [schema],
    )
    return rowCount === 1
  } finally {
    await client.end()
  }
}

/** A copy of the folder holding only the given migrations (journal and SQL). */
function folderWith(migrationsFolder: string, tags: Set<string>): { folder: string; remove(): void } {
  const parent = mkdtempSync(path.join(tmpdir(), 'ops-check-'))
  const folder = path.join(parent, 'drizzle')
  mkdirSync(path.join(folder, 'meta'), { recursive: true })
  const journal = readJournal(migrationsFolder)
  const entries = journal.entries.filter((e) => tags.has(e.tag))
  writeFileSync(journalPath(folder), JSON.stringify({ ...journal, entries }, null, 2))
  for (const entry of entries) {
    copyFileSync(path.join(migrationsFolder, `${entry.tag}.sql`), path.join(folder, `${entry.tag}.sql`))
  }
  return { folder, remove: () => rmSync(parent, { recursive: true, force: true }) }
}

/** The service's schema as its migrations leave it, built in a scratch database. */
async function referenceCatalog(adminUrl: string, service: ServiceInfo, env: Env, migrationsFolder: string) {
  const scratch = await createScratchDatabase(adminUrl, { prefix: `ops_check_${service.name}` })
  try {
    await bootstrapServices(scratch.url, [service], env)
    const url = ownerUrl(scratch.url, service, env)
    await migrate({ url, schema: service.schema, migrationsFolder })
    return await readCatalog({ url, schema: service.schema })
  } finally {
    await scratch.drop()
  }
}

export async function liveDrift(options: {
  adminUrl: string
  service: ServiceInfo
  env: Env
}): Promise<LiveDrift> {
  const { adminUrl, service, env } = options
  if (!(await ledgerExists(adminUrl, service.schema))) return { deployed: false, differences: [] }
  const url = ownerUrl(adminUrl, service, env)
  const report = await status({ url, schema: service.schema, migrationsFolder: service.migrationsFolder })
  const live = await readCatalog({ url, schema: service.schema })
  const applied = new Set(
    report.entries
      .filter((e) => e.state === 'applied' || e.state === 'changed')
      .map((e) => e.name.replace(/\.sql$/, '')),
  )
  // Pending migrations are reported on their own; the schema is compared with what the applied ones build.
  const head = folderWith(service.migrationsFolder, applied)
  try {
    const expected = await referenceCatalog(adminUrl, service, env, head.folder)
    return { deployed: true, status: report, differences: diffCatalogs(expected, live) }
  } finally {
    head.remove()
  }
}
