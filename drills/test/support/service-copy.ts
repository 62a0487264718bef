// A copy of a built service (dist/ and drizzle/) in a temporary folder, with extra
// migrations appended to the copy's journal. The service finds its migrations in
// the drizzle/ folder nearest its bundle, so the copy runs the real bundle and the
// real runner on the extended folder, and the repository is never touched.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Journal, journalPath, STATEMENT_BREAKPOINT } from '@app/migrations'
import { type ServiceName, service } from './databases.js'

export interface ServiceCopy {
  dir: string
  migrationsFolder: string
  remove(): void
}

export function copyServiceWithMigrations(
  name: ServiceName,
  extra: { tag: string; statements: string[] }[],
): ServiceCopy {
  const original = service(name)
  const dir = mkdtempSync(path.join(tmpdir(), `drills-${name}-copy-`))
  cpSync(path.join(original.dir, 'dist'), path.join(dir, 'dist'), { recursive: true })
  cpSync(original.migrationsFolder, path.join(dir, 'drizzle'), { recursive: true })
  // The bundle is ES modules and loads its native addons from node_modules.
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ private: true, type: 'module' })}\n`)
  symlinkSync(path.join(original.dir, 'node_modules'), path.join(dir, 'node_modules'), 'dir')

  const migrationsFolder = path.join(dir, 'drizzle')
  const journal = JSON.parse(readFileSync(journalPath(migrationsFolder), 'utf8')) as Journal
  let when = Math.max(...journal.entries.map((entry) => entry.when))
  for (const migration of extra) {
    when += 1000
    journal.entries.push({
      idx: journal.entries.length,
      version: '7',
      when,
      tag: migration.tag,
      breakpoints: true,
    })
    writeFileSync(
      path.join(migrationsFolder, `${migration.tag}.sql`),
      migration.statements.join(`\n${STATEMENT_BREAKPOINT}\n`),
    )
  }
  writeFileSync(journalPath(migrationsFolder), `${JSON.stringify(journal, null, 2)}\n`)
  return { dir, migrationsFolder, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
