// Is a migration safe to apply while the service serves traffic, with the previous
// release still running beside the new one? squawk's findings (squawk.ts), at the
// levels and with the fixes of squawk-rules.ts, plus what squawk has no rule for
// (destructive-changes.ts, transaction-mode-lint.ts), plus the waivers: one
// statement at a time, each with its reason. add-migration prints the result for
// the files it writes, `make check` for every file.
import { runsWithoutTransaction, STATEMENT_BREAKPOINT, splitStatements } from '../index.js'
import { renamesAsDropAndAdd, typeChangesWithoutRewrite } from './destructive-changes.js'
import { expandContractSteps } from './expand-contract.js'
import type { Snapshot } from './snapshots.js'
import { runSquawk } from './squawk.js'
import { DOWN_RULES, SQUAWK_EXCLUDED, squawkRule } from './squawk-rules.js'
import { transactionModeProblems } from './transaction-mode-lint.js'

export interface SafetyFinding {
  rule: string
  /** `waived`: a squawk finding its statement waives, listed so reviewers see it. */
  level: 'error' | 'warning' | 'waived'
  message: string
  statement: string
  fix: string
  /** The expand/contract migrations to write instead, when there is a recipe. */
  steps: string[]
}

export interface SafetyOptions {
  schema: string
  /** The models before this migration (its previous snapshot): type changes without a rewrite. */
  previous?: Snapshot | null
  /** A down is checked only for how it runs: it undoes its migration by design. */
  kind?: 'migration' | 'down'
}

const WAIVER = /--\s*squawk-ignore(-file)?\b(.*)$/

/** Waivers in the file: `-- squawk-ignore rule` on one statement, with a reason on the line above. */
function waivers(sql: string): SafetyFinding[] {
  const lines = sql.split('\n')
  const findings: SafetyFinding[] = []
  lines.forEach((line, i) => {
    const match = WAIVER.exec(line)
    if (!match) return
    const statement = statementAt(sql, lines, i)
    if (match[1]) {
      findings.push({
        rule: 'waiver-scope',
        level: 'error',
        message: `"squawk-ignore-file" waives${match[2]!.trim() ? ` ${match[2]!.trim()}` : ' every rule'} for the whole file`,
        statement: line.trim(),
        fix: 'Waive one statement at a time: "-- squawk-ignore <rule>" on the line right above it, with the reason on the line above that.',
        steps: [],
      })
      return
    }
    const reason = (lines[i - 1] ?? '').trim()
    const isReason =
      reason.startsWith('--') &&
      !reason.startsWith(STATEMENT_BREAKPOINT) &&
      !WAIVER.test(reason) &&
      !/migrate:/i.test(reason)
    if (!isReason) {
      findings.push({
        rule: 'waiver-reason',
        level: 'error',
        message: `squawk-ignore ${match[2]!.trim()} without a reason`,
        statement,
        fix: 'Say why it is safe on a comment line right above the squawk-ignore line (e.g. which release stopped using what it drops).',
        steps: [],
      })
      return
    }
    findings.push({
      rule: match[2]!.trim(),
      level: 'waived',
      message: reason.replace(/^--\s*/, ''),
      statement,
      fix: '',
      steps: [],
    })
  })
  return findings
}

/** The statement (text between breakpoints) line `lineIndex` belongs to, comments above it included. */
function statementAt(sql: string, lines: string[], lineIndex: number): string {
  const offset = lines.slice(0, lineIndex).reduce((n, l) => n + l.length + 1, 0)
  const index = sql.slice(0, offset).split(STATEMENT_BREAKPOINT).length - 1
  return (sql.split(STATEMENT_BREAKPOINT)[index] ?? '').trim()
}

export function migrationSafety(
  file: { name: string; sql: string },
  options: SafetyOptions,
): SafetyFinding[] {
  const transactional = !runsWithoutTransaction(file.sql)
  const kind = options.kind ?? 'migration'
  const findings: SafetyFinding[] = []
  const modeProblems = transactionModeProblems(file.sql, transactional)
  const refused = new Set(
    modeProblems.filter((p) => p.rule === 'needs-no-transaction').map((p) => p.statement),
  )
  for (const finding of runSquawk(file.sql, {
    fileName: file.name,
    transactional,
    exclude: SQUAWK_EXCLUDED,
  })) {
    if (kind === 'down' && !DOWN_RULES.has(finding.rule)) continue
    // A file in one transaction is all or nothing: re-running is not its problem
    // (squawk says so of CONCURRENTLY statements, which needs-no-transaction covers).
    if (transactional && finding.rule === 'prefer-robust-stmts') continue
    if (finding.rule === 'ban-concurrent-index-creation-in-transaction' && refused.has(finding.statement))
      continue
    const rule = squawkRule(finding.rule)
    let level = rule.level
    let message = finding.message
    let fix = rule.fix
    if (finding.rule === 'changing-column-type') {
      const widened = typeChangesWithoutRewrite(finding.statement, {
        schema: options.schema,
        previous: options.previous ?? null,
      })
      if (widened) {
        level = 'warning'
        message = `changes ${widened.join(', ')}: a widening PostgreSQL does without rewriting or scanning the table`
        fix =
          'Only a brief ACCESS EXCLUSIVE lock, bounded by lock_timeout; the previous release reads the new type unchanged.'
      }
    }
    findings.push({
      rule: finding.rule,
      level,
      message,
      statement: finding.statement,
      fix,
      steps: level === 'error' ? expandContractSteps(finding.rule, finding.statement) : [],
    })
  }
  for (const problem of modeProblems) {
    findings.push({ ...problem, level: 'error', steps: [] })
  }
  if (kind === 'migration') {
    for (const rename of renamesAsDropAndAdd(splitStatements(file.sql), options.schema)) {
      findings.push({
        rule: 'rename-as-drop-and-add',
        level: 'error',
        message: rename.message,
        statement: rename.statements.join('\n'),
        fix: 'Expand, then contract:',
        steps: expandContractSteps('rename-as-drop-and-add', rename.statements.join(';\n')),
      })
    }
  }
  findings.push(...waivers(file.sql))
  return findings
}

/** The findings as add-migration and check print them: level, file, rule, message, statement, fix. */
export function formatSafetyFindings(file: string, findings: SafetyFinding[]): string[] {
  return findings.flatMap((f) => [
    `${f.level}: ${file}: ${f.rule}: ${f.message}`,
    ...f.statement
      .trim()
      .split('\n')
      .map((line) => `      ${line}`),
    ...(f.fix ? [`    fix: ${f.fix}`] : []),
    ...f.steps.map((step) => `    ${step}`),
  ])
}
