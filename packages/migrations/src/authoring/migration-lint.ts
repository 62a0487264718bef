// Static checks of a service's migrations folder, no database needed: journal
// timestamps increase (the ledger matches migrations by them, and drizzle skips
// older ones), every migration and down names only the service's own schema, every
// migration has its down, and each file is safe under live traffic (squawk and the
// project's own rules: migration-safety.ts).
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { MigrationError, readMigrationFolder, splitStatements } from '../index.js'
import { downPath, formatDownFile, planDown } from './down-migrations.js'
import { lintStatements } from './isolation-lint.js'
import { migrationSafety, type SafetyFinding } from './migration-safety.js'
import type { Snapshot } from './snapshots.js'
import { journalEntries, snapshotPairs } from './snapshots.js'
import type { ServiceInfo } from './workspace.js'

export interface LintProblem {
  file: string
  message: string
  statement?: string
  /** How to fix it, line by line. */
  fix?: string[]
  /** Default error: a warning is printed, and fails nothing. */
  severity?: 'error' | 'warning'
}

export interface FolderLint {
  problems: LintProblem[]
  /** Printed, failing nothing: what the lints cannot verify, squawk's warnings. */
  warnings: LintProblem[]
  /** Not failures: e.g. a generated down that was edited by hand, a waived squawk rule. */
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
    severity: v.severity,
  }))
}

/** Safety findings of one file as lint problems, warnings and notes. */
export function safetyProblems(
  file: string,
  sql: string,
  options: { schema: string; previous?: Snapshot | null; kind: 'migration' | 'down' },
): { problems: LintProblem[]; warnings: LintProblem[]; notes: string[] } {
  const findings = migrationSafety({ name: path.basename(file), sql }, options)
  const asProblem = (f: SafetyFinding): LintProblem => ({
    file,
    message: `${f.rule}: ${f.message}`,
    statement: f.statement,
    fix: [...(f.fix ? [f.fix] : []), ...f.steps.map((s) => s.trim())],
    severity: f.level === 'error' ? 'error' : 'warning',
  })
  return {
    problems: findings.filter((f) => f.level === 'error').map(asProblem),
    warnings: findings.filter((f) => f.level === 'warning').map(asProblem),
    notes: findings
      .filter((f) => f.level === 'waived')
      .map(
        (f) => `${path.basename(file)} waives ${f.rule} on "${f.statement.split('\n').at(-1)}": ${f.message}`,
      ),
  }
}

export async function lintMigrationFolder(
  service: Pick<ServiceInfo, 'name' | 'schema' | 'migrationsFolder'>,
  forbiddenSchemas: string[],
): Promise<FolderLint> {
  const folder = service.migrationsFolder
  const result: FolderLint = { problems: [], warnings: [], notes: [], migrations: 0, downs: 0 }
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
  const add = (found: LintProblem[]) => {
    for (const p of found) (p.severity === 'warning' ? result.warnings : result.problems).push(p)
  }
  const addSafety = (found: ReturnType<typeof safetyProblems>) => {
    result.problems.push(...found.problems)
    result.warnings.push(...found.warnings)
    result.notes.push(...found.notes)
  }
  for (const [i, file] of files.entries()) {
    add(isolationProblems(file.path, file.sql, service.schema, forbiddenSchemas))
    addSafety(
      safetyProblems(file.path, file.sql, {
        schema: service.schema,
        previous: pairs[i]?.previous,
        kind: 'migration',
      }),
    )
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
    add(isolationProblems(down, downSql, service.schema, forbiddenSchemas))
    addSafety(safetyProblems(down, downSql, { schema: service.schema, kind: 'down' }))
    if (plan.kind === 'generated' && downSql !== formatDownFile(file.name, plan.statements)) {
      result.notes.push(
        `${path.basename(down)} differs from the down its snapshots give (edited by hand, or stale)`,
      )
    }
  }
  return result
}
