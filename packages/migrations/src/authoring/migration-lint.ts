// Static checks of a service's migrations folder, no database needed: journal
// timestamps increase (the ledger matches migrations by them, and drizzle skips
// older ones), every migration and down names only the service's own schema, and
// every migration has its down.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { lintStatements, MigrationError, readMigrationFolder, splitStatements } from '../index.js'
import { downPath, formatDownFile, planDown } from './down-migrations.js'
import { journalEntries, snapshotPairs } from './snapshots.js'
import type { ServiceInfo } from './workspace.js'

export interface LintProblem {
  file: string
  message: string
  statement?: string
}

export interface FolderLint {
  problems: LintProblem[]
  /** Not failures: e.g. a generated down that was edited by hand. */
  notes: string[]
  migrations: number
  downs: number
}

export function isolationProblems(
  file: string,
  sql: string,
  schema: string,
  forbiddenSchemas: string[],
): LintProblem[] {
  return lintStatements(splitStatements(sql), { schema, forbiddenSchemas }).map((v) => ({
    file,
    message: v.message,
    statement: v.statement,
  }))
}

export async function lintMigrationFolder(
  service: Pick<ServiceInfo, 'name' | 'schema' | 'migrationsFolder'>,
  forbiddenSchemas: string[],
): Promise<FolderLint> {
  const folder = service.migrationsFolder
  const result: FolderLint = { problems: [], notes: [], migrations: 0, downs: 0 }
  const entries = journalEntries(folder)
  if (entries.length === 0) return result
  entries.forEach((entry, i) => {
    const before = entries[i - 1]
    if (before && !(entry.when > before.when)) {
      result.problems.push({
        file: path.join(folder, 'meta', '_journal.json'),
        message: `journal "when" of ${entry.tag} (${entry.when}) is not after ${before.tag} (${before.when}); the runner orders and matches migrations by it. Regenerate ${entry.tag} after ${before.tag}.`,
      })
    }
  })
  let files: ReturnType<typeof readMigrationFolder>
  try {
    files = readMigrationFolder(folder)
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error
    result.problems.push({ file: error.details.file ?? folder, message: error.message })
    return result
  }
  result.migrations = files.length
  const pairs = snapshotPairs(folder)
  for (const [i, file] of files.entries()) {
    result.problems.push(...isolationProblems(file.path, file.sql, service.schema, forbiddenSchemas))
    const down = downPath(folder, file)
    const plan = await planDown(pairs[i]!, service.schema)
    if (!existsSync(down)) {
      result.problems.push({
        file: down,
        message:
          plan.kind === 'custom'
            ? `missing down for the custom migration ${file.name}: write it by hand (rollback refuses without it)`
            : `missing down for ${file.name}: write it with \`ops write-downs --svc ${service.name}\``,
      })
      continue
    }
    result.downs++
    const downSql = readFileSync(down, 'utf8')
    result.problems.push(...isolationProblems(down, downSql, service.schema, forbiddenSchemas))
    if (plan.kind === 'generated' && downSql !== formatDownFile(file.name, plan.statements)) {
      result.notes.push(
        `${path.basename(down)} differs from the down its snapshots give (edited by hand, or stale)`,
      )
    }
  }
  return result
}
