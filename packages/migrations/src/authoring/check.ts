// `make check` (also in CI), per service:
//   1. the models match the last migration's snapshot (no forgotten add-migration);
//   2. the migrations folder passes the lint (isolation, downs, journal order, and
//      squawk's and the project's rules for migrations under live traffic);
//   3. the live database is at head, unaltered: its schema equals what the applied
//      migrations build in a scratch database.
// Each failure prints what differs; the exit code is 1 if anything failed.
import { formatCatalogDifferences } from '../index.js'
import { liveDrift } from './live-drift.js'
import { type LintProblem, lintMigrationFolder } from './migration-lint.js'
import { modelDrift } from './model-drift.js'
import type { Env } from './roles.js'
import type { ServiceInfo } from './workspace.js'

export interface CheckOptions {
  /** The services to check. */
  services: ServiceInfo[]
  /** Every service, whose schemas the checked ones must not name. */
  allServices: ServiceInfo[]
  /** Admin URL of the live database; null skips the live comparison. */
  adminUrl: string | null
  /** How the live database is described in the output. */
  liveName?: string
  env: Env
  out: (line: string) => void
  err: (line: string) => void
}

const indent = (lines: string[], by = '    ') =>
  lines.map((line) => `${by}${line.replaceAll('\n', `\n${by}`)}`)

type Report = { out: (line: string) => void; fail: (lines: string[]) => void }

async function checkModels(service: ServiceInfo, { out, fail }: Report): Promise<void> {
  const models = await modelDrift(service)
  if (models.statements.length === 0) {
    out(`${service.name}: models match ${models.lastMigration ?? 'the empty schema (no migrations yet)'}`)
    return
  }
  fail([
    `${service.name}: FAIL models differ from ${models.lastMigration ?? 'the empty schema'}: src/db/schema.ts changed without a migration.`,
    `  Run make add-migration svc=${service.name} msg="...". It would generate:`,
    ...indent(models.statements.map((s) => s.trim())),
  ])
}

const describe = (p: LintProblem) => [
  `  ${p.file}: ${p.message}`,
  ...(p.statement ? indent([p.statement.trim()], '      ') : []),
  ...(p.fix ?? []).map((line, i) => `    ${i === 0 ? 'fix: ' : '     '}${line}`),
]

async function checkFolder(service: ServiceInfo, others: string[], { out, fail }: Report): Promise<void> {
  const lint = await lintMigrationFolder(service, others)
  if (lint.problems.length === 0) {
    out(`${service.name}: ${lint.migrations} migration(s) and ${lint.downs} down(s) pass the lint`)
  } else {
    fail([
      `${service.name}: FAIL ${lint.problems.length} problem(s) in ${service.migrationsFolder}:`,
      ...lint.problems.flatMap(describe),
    ])
  }
  for (const warning of lint.warnings) {
    const [first, ...rest] = describe(warning)
    out(`${service.name}: warning:${first!.slice(1)}`)
    for (const line of rest) out(line)
  }
  for (const note of lint.notes) out(`${service.name}: note: ${note}`)
}

async function checkLive(
  service: ServiceInfo,
  options: CheckOptions & { adminUrl: string },
  { out, fail }: Report,
): Promise<void> {
  const where = options.liveName ?? 'the live database'
  const live = await liveDrift({ adminUrl: options.adminUrl, service, env: options.env })
  if (!live.deployed) {
    out(`${service.name}: not migrated on ${where} yet; nothing to compare`)
    return
  }
  const entries = live.status!.entries
  const pending = entries.filter((e) => e.state === 'pending')
  const changed = entries.filter((e) => e.state !== 'pending' && e.state !== 'applied')
  if (pending.length > 0) {
    fail([
      `${service.name}: FAIL ${pending.length} migration(s) pending on ${where}: ${pending.map((e) => e.name).join(', ')}`,
      `  Apply them with make migrate svc=${service.name}.`,
    ])
  }
  if (changed.length > 0) {
    fail([
      `${service.name}: FAIL the ledger on ${where} does not match the folder:`,
      ...changed.map(
        (e) =>
          `  ${e.name}: ${e.state === 'changed' ? 'changed after being applied (hash mismatch)' : e.state}`,
      ),
    ])
  }
  if (live.differences.length === 0) {
    out(
      `${service.name}: schema "${service.schema}" on ${where} matches its ${live.status!.applied} applied migration(s)`,
    )
    return
  }
  fail([
    `${service.name}: FAIL schema "${service.schema}" on ${where} differs from what its applied migrations build (altered by hand?):`,
    ...indent(
      formatCatalogDifferences(live.differences, { expected: 'the migrations', actual: 'the live database' }),
      '  ',
    ),
  ])
}

/** Resolves to the number of failed checks. */
export async function runCheck(options: CheckOptions): Promise<number> {
  let failures = 0
  const report: Report = {
    out: options.out,
    fail: (lines) => {
      failures++
      for (const line of lines) options.err(line)
    },
  }
  // One check that cannot run (a models file that doesn't load, a role that can't
  // log in) is a failure of its own; the others still run.
  const attempt = async (service: ServiceInfo, what: string, run: () => Promise<void>) => {
    try {
      await run()
    } catch (error) {
      report.fail([`${service.name}: FAIL could not check ${what}: ${(error as Error).message}`])
    }
  }
  for (const service of options.services) {
    const others = options.allServices.filter((s) => s.schema !== service.schema).map((s) => s.schema)
    await attempt(service, 'the models', () => checkModels(service, report))
    await attempt(service, 'the migrations folder', () => checkFolder(service, others, report))
    const adminUrl = options.adminUrl
    if (adminUrl !== null) {
      await attempt(service, 'the live database', () => checkLive(service, { ...options, adminUrl }, report))
    }
  }
  return failures
}
