// `make add-migration svc=auth msg="add nickname"`: drizzle-kit generate for one
// service, then the down file, the isolation lint and the checks for live traffic
// (squawk and the project's rules, with the expand/contract steps to write instead
// of an unsafe change). A migration that names another schema is refused and
// removed again, with every file drizzle-kit wrote, so nothing half-written stays
// behind. One that is unsafe under traffic is kept (it is the starting point of the
// fix, or gets a waiver) and the command exits 1: `make check` fails until it is
// fixed or waived.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { journalPath, NO_TRANSACTION_MARKER } from '../index.js'
import { downPath, formatDownFile, planDown } from './down-migrations.js'
import { isolationProblems } from './migration-lint.js'
import { formatSafetyFindings, migrationSafety, type SafetyFinding } from './migration-safety.js'
import { modelDrift, modelSnapshot } from './model-drift.js'
import { journalEntries, readSnapshot, snapshotPairs, snapshotPath } from './snapshots.js'
import { type ServiceInfo, UsageError } from './workspace.js'

/** A file-name-safe slug: shell metacharacters and all are just text. */
export function slugify(message: string): string {
  return message
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60)
    .replace(/_+$/, '')
}

export interface AddMigrationOptions {
  service: Pick<ServiceInfo, 'name' | 'dir' | 'schema' | 'migrationsFolder' | 'modelsFile'>
  /** Schemas the SQL may not name: the other services'. `public` always counts. */
  otherSchemas: string[]
  msg: string | undefined
  custom?: boolean
  /** A custom migration whose first line is `-- migrate: no-transaction`. */
  noTransaction?: boolean
  /** Let drizzle-kit talk to the terminal (its rename prompts). */
  interactive?: boolean
  out: (line: string) => void
  err: (line: string) => void
}

function filesUnder(folder: string): Set<string> {
  if (!existsSync(folder)) return new Set()
  return new Set(
    readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name)),
  )
}

function runDrizzleKit(options: AddMigrationOptions, args: string[]): Promise<number> {
  const bin = path.join(options.service.dir, 'node_modules', '.bin', 'drizzle-kit')
  if (!existsSync(bin)) {
    throw new Error(`drizzle-kit is not installed for ${options.service.name} (${bin}): run make install`)
  }
  return new Promise((resolve, reject) => {
    // No shell: the slug is one argument whatever it contains.
    const child = spawn(bin, args, {
      cwd: options.service.dir,
      stdio: options.interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    })
    const forward = (stream: NodeJS.ReadableStream | null, print: (line: string) => void) => {
      let buffered = ''
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => {
        const lines = (buffered + chunk).split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) print(`  drizzle-kit: ${line}`)
      })
      stream?.on('end', () => {
        if (buffered) print(`  drizzle-kit: ${buffered}`)
      })
    }
    forward(child.stdout, options.out)
    forward(child.stderr, options.err)
    child.on('error', reject)
    child.on('close', (code) => resolve(code ?? 1))
  })
}

/**
 * What a custom migration starts as, instead of drizzle-kit's one-line comment.
 * `modelChange`: the SQL drizzle-kit would have generated for the models' change
 * since the last migration, which this migration records and so must carry out.
 */
export function customMigrationTemplate(
  msg: string,
  noTransaction: boolean,
  modelChange: string[] = [],
): string {
  const lines = noTransaction
    ? [
        NO_TRANSACTION_MARKER,
        `-- ${msg}: hand-written SQL, run statement by statement without a transaction, under the`,
        "-- schema's lock, over a direct connection. Each statement on its own (a breakpoint line between",
        '-- two, as drizzle-kit writes them), written to run twice (IF NOT EXISTS / IF EXISTS): after a',
        '-- failure or a crash the whole file runs again. An INVALID index left by an interrupted CREATE',
        '-- INDEX CONCURRENTLY is dropped and built again. Only what needs it belongs here (README:',
        '-- Working with migrations).',
      ]
    : [
        `-- ${msg}: hand-written SQL, applied in one transaction; a breakpoint line between two`,
        '-- statements, as drizzle-kit writes them. For what PostgreSQL refuses inside a transaction',
        `-- (CREATE INDEX CONCURRENTLY, ...), make "${NO_TRANSACTION_MARKER}" the first line`,
        '-- (README: Working with migrations).',
      ]
  if (modelChange.length > 0) {
    lines.push(
      '-- The models changed since the last migration and this one records that change (its snapshot',
      '-- is the models now), so its SQL must make it, in the way that is safe under traffic',
      '-- (CONCURRENTLY, NOT VALID then VALIDATE, batches). drizzle-kit would have written:',
      ...modelChange.flatMap((statement) =>
        statement
          .trim()
          .split('\n')
          .map((line) => `--   ${line}`),
      ),
    )
  }
  return `${lines.join('\n')}\n`
}

/** Overwrites a snapshot drizzle-kit wrote with the models' own, keeping its place in the chain. */
async function recordModels(service: AddMigrationOptions['service'], file: string): Promise<void> {
  const written = readSnapshot(file)
  const models = await modelSnapshot(service.modelsFile, path.join(service.dir, 'drizzle.config.ts'))
  writeFileSync(file, `${JSON.stringify({ ...models, id: written.id, prevId: written.prevId }, null, 2)}\n`)
}

/** Resolves to the exit code. */
export async function addMigration(options: AddMigrationOptions): Promise<number> {
  const { service, out, err } = options
  if (!options.msg?.trim()) {
    throw new UsageError('msg is required: msg="what the migration does" (it names the file)')
  }
  const slug = slugify(options.msg)
  if (!slug) throw new UsageError(`msg "${options.msg}" has no letters or digits to name the file with`)

  const folder = service.migrationsFolder
  const journalFile = journalPath(folder)
  const journalBefore = existsSync(journalFile) ? readFileSync(journalFile, 'utf8') : null
  const tagsBefore = new Set(journalEntries(folder).map((e) => e.tag))
  const filesBefore = filesUnder(folder)
  const undo = () => {
    for (const file of filesUnder(folder)) if (!filesBefore.has(file)) rmSync(file, { force: true })
    if (journalBefore === null) rmSync(journalFile, { force: true })
    else writeFileSync(journalFile, journalBefore)
  }

  const custom = Boolean(options.custom || options.noTransaction)
  // The lint's fix for an unsafe generated change (DROP INDEX -> DROP INDEX
  // CONCURRENTLY in a no-transaction migration) is a custom migration that carries
  // the models' change. drizzle-kit's --custom copies the previous snapshot, which
  // would leave the change unrecorded (make check: "models differ") and generate it
  // again next time; so the custom migration takes the models' snapshot instead.
  const modelChange = custom ? (await modelDrift(service)).statements : []
  out(`${service.name}: drizzle-kit generate --name ${slug}${custom ? ' --custom' : ''}`)
  const code = await runDrizzleKit(options, ['generate', '--name', slug, ...(custom ? ['--custom'] : [])])
  if (code !== 0) {
    undo()
    err(`error: drizzle-kit generate failed (exit ${code}); nothing was added`)
    return 1
  }
  const created = journalEntries(folder).filter((e) => !tagsBefore.has(e.tag))
  if (created.length === 0) {
    // drizzle-kit exits 0 even when it fails (e.g. a rename prompt without a terminal).
    if ((await modelDrift(service)).statements.length > 0) {
      undo()
      err(
        `error: drizzle-kit generate failed: the models changed but it wrote no migration (see its output above).`,
      )
      err(
        'If it asked whether a column or table was renamed, run add-migration in a terminal and answer the prompt.',
      )
      return 1
    }
    out(
      `${service.name}: the models match the last migration; nothing to generate (--custom makes an empty one to fill by hand)`,
    )
    return 0
  }

  let unsafe = 0
  try {
    if (custom && modelChange.length > 0) {
      for (const entry of created) await recordModels(service, snapshotPath(folder, entry))
    }
    const pairs = snapshotPairs(folder)
    for (const entry of created) {
      const name = `${entry.tag}.sql`
      const file = path.join(folder, name)
      if (custom) {
        writeFileSync(file, customMigrationTemplate(options.msg, Boolean(options.noTransaction), modelChange))
      }
      const sql = readFileSync(file, 'utf8')
      const pair = pairs.find((p) => p.entry.tag === entry.tag)!
      const plan = await planDown(pair, service.schema)
      // A custom migration's generated down is a starting point to review, in the
      // same transaction mode as its up.
      const downSql =
        plan.kind === 'generated'
          ? `${options.noTransaction ? `${NO_TRANSACTION_MARKER}\n` : ''}${formatDownFile(name, plan.statements)}`
          : ''
      const isolation = [
        ...isolationProblems(file, sql, service.schema, options.otherSchemas),
        ...isolationProblems(downPath(folder, entry), downSql, service.schema, options.otherSchemas),
      ]
      const problems = isolation.filter((p) => p.severity !== 'warning')
      if (problems.length > 0) {
        undo()
        err(`error: ${name} would reach outside the "${service.schema}" schema, so it was not added:`)
        for (const p of problems) {
          err(`  ${path.basename(p.file)}: ${p.message}`)
          err(`      ${(p.statement ?? '').trim().replaceAll('\n', '\n      ')}`)
        }
        err(
          `Each service's models may only use pgSchema('${service.schema}'); fix src/db/schema.ts and run add-migration again.`,
        )
        return 1
      }
      if (plan.kind === 'generated') {
        writeFileSync(downPath(folder, entry), downSql)
        out(
          `${service.name}: wrote ${path.relative(service.dir, file)} and ${path.relative(service.dir, downPath(folder, entry))}`,
        )
        if (custom) {
          out(
            `  ${name} records the models' change: write the SQL that makes it (the file lists what drizzle-kit would have written); the down reverses it from the snapshots: review it for live traffic`,
          )
        }
      } else {
        out(
          `${service.name}: wrote ${path.relative(service.dir, file)}; a custom migration's down is hand-written:`,
        )
        out(
          `  put the SQL that reverses it in ${path.relative(service.dir, downPath(folder, entry))} (rollback and check refuse without it)`,
        )
        if (options.noTransaction) {
          out(
            `  starting with the line "${NO_TRANSACTION_MARKER}" when it needs it too (DROP INDEX CONCURRENTLY IF EXISTS ...)`,
          )
        }
      }
      for (const p of isolation.filter((p) => p.severity === 'warning')) {
        err(`warning: ${path.relative(service.dir, p.file)}: ${p.message}`)
      }
      const findings: [string, SafetyFinding[]][] = [
        [file, migrationSafety({ name, sql }, { schema: service.schema, previous: pair.previous })],
        [
          downPath(folder, entry),
          plan.kind === 'generated'
            ? migrationSafety(
                { name: `${entry.tag}.down.sql`, sql: downSql },
                { schema: service.schema, kind: 'down' },
              )
            : [],
        ],
      ]
      for (const [where, found] of findings) {
        unsafe += found.filter((f) => f.level === 'error').length
        for (const line of formatSafetyFindings(path.relative(service.dir, where), found)) err(line)
      }
    }
  } catch (error) {
    undo()
    throw error
  }
  if (unsafe > 0) {
    err(
      `${service.name}: ${unsafe} error(s) above: unsafe while the service serves traffic, or with the previous release still running. The files stay for you to fix as each "fix" says (or to waive a finding for its statement: a comment line with the reason, then "-- squawk-ignore <rule>" right above it); make check fails until then.`,
    )
    return 1
  }
  return 0
}
