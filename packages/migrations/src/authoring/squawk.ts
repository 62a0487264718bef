// squawk (npm squawk-cli), the PostgreSQL migration linter, run on one file's SQL:
// its per-platform binary, called directly (squawk-cli's JavaScript wrapper would
// only spawn it again), reading the SQL on stdin and answering JSON. A file in one
// transaction is linted as such (--assume-in-transaction); a file marked
// `-- migrate: no-transaction` without, so squawk's rules about statements that
// must (or must not) run in a transaction, and about re-running, apply as they
// should. Findings come back with the statement they belong to.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { STATEMENT_BREAKPOINT } from '../index.js'

/** The PostgreSQL major the project runs (embedded and in docker-compose): squawk's rules depend on it. */
export const POSTGRES_VERSION = '17'

export interface SquawkFinding {
  rule: string
  message: string
  /** squawk's own advice, when it has one. */
  help: string | null
  /** The statement (the text between breakpoints) the finding points into. */
  statement: string
  /** 1-based line in the file. */
  line: number
}

interface SquawkJson {
  line: number
  column: number
  message: string
  help: string | null
  rule_name: string
}

function squawkBinary(): string {
  const require = createRequire(import.meta.url)
  const wrapper = require('squawk-cli/js/index.js') as { getBinaryPath(): string }
  try {
    return wrapper.getBinaryPath()
  } catch (error) {
    throw new Error(
      `squawk is not installed for this platform: ${(error as Error).message} (run make install)`,
    )
  }
}

/** Each statement's text and where it starts in the file. */
function statementSpans(sql: string): { text: string; start: number }[] {
  const spans: { text: string; start: number }[] = []
  let start = 0
  for (const part of sql.split(STATEMENT_BREAKPOINT)) {
    spans.push({ text: part, start })
    start += part.length + STATEMENT_BREAKPOINT.length
  }
  return spans
}

/** Runs squawk on one file's SQL. `exclude` rules are not checked at all. */
export function runSquawk(
  sql: string,
  options: { fileName: string; transactional: boolean; exclude: readonly string[] },
): SquawkFinding[] {
  const args = [
    '--reporter=json',
    `--pg-version=${POSTGRES_VERSION}`,
    `--stdin-filepath=${options.fileName}`,
    ...(options.transactional ? ['--assume-in-transaction'] : []),
    ...options.exclude.map((rule) => `--exclude=${rule}`),
  ]
  // From a neutral folder: squawk reads a .squawk.toml found above its working
  // directory, and the rules here are decided in code (squawk-rules.ts).
  const result = spawnSync(squawkBinary(), args, { input: sql, encoding: 'utf8', cwd: tmpdir() })
  if (result.error) throw new Error(`squawk did not run: ${result.error.message}`)
  let parsed: SquawkJson[]
  try {
    parsed = JSON.parse(result.stdout || '[]') as SquawkJson[]
  } catch {
    throw new Error(
      `squawk failed on ${options.fileName} (exit ${result.status}): ${result.stderr || result.stdout}`,
    )
  }
  const lineStarts = [0]
  for (let i = 0; i < sql.length; i++) if (sql[i] === '\n') lineStarts.push(i + 1)
  const spans = statementSpans(sql)
  return parsed.map((finding) => {
    const offset = (lineStarts[finding.line] ?? sql.length) + finding.column
    const span = spans.findLast((s) => s.start <= offset) ?? spans[0]!
    return {
      rule: finding.rule_name,
      message: finding.message,
      help: finding.help,
      statement: span.text.trim(),
      line: finding.line + 1,
    }
  })
}
