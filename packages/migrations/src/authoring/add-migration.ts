// `make add-migration svc=auth msg="add nickname"`: drizzle-kit generate for one
// service, then the down file, the isolation lint and destructive-change warnings.
// A migration that names another schema is refused and removed again, with every
// file drizzle-kit wrote, so nothing half-written stays behind.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { journalPath, splitStatements } from '../index.js'
import { destructiveChanges, formatDestructiveChanges } from './destructive-changes.js'
import { downPath, formatDownFile, planDown } from './down-migrations.js'
import { isolationProblems } from './migration-lint.js'
import { modelDrift } from './model-drift.js'
import { journalEntries, snapshotPairs } from './snapshots.js'
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

  out(`${service.name}: drizzle-kit generate --name ${slug}${options.custom ? ' --custom' : ''}`)
  const code = await runDrizzleKit(options, [
    'generate',
    '--name',
    slug,
    ...(options.custom ? ['--custom'] : []),
  ])
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

  try {
    const pairs = snapshotPairs(folder)
    for (const entry of created) {
      const name = `${entry.tag}.sql`
      const file = path.join(folder, name)
      const sql = readFileSync(file, 'utf8')
      const pair = pairs.find((p) => p.entry.tag === entry.tag)!
      const plan = await planDown(pair, service.schema)
      const downSql = plan.kind === 'generated' ? formatDownFile(name, plan.statements) : ''
      const problems = [
        ...isolationProblems(file, sql, service.schema, options.otherSchemas),
        ...isolationProblems(downPath(folder, entry), downSql, service.schema, options.otherSchemas),
      ]
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
      } else {
        out(
          `${service.name}: wrote ${path.relative(service.dir, file)}; a custom migration's down is hand-written:`,
        )
        out(
          `  put the SQL that reverses it in ${path.relative(service.dir, downPath(folder, entry))} (rollback and check refuse without it)`,
        )
      }
      const warnings = destructiveChanges(splitStatements(sql), {
        schema: service.schema,
        previous: pair.previous,
      })
      for (const line of formatDestructiveChanges(path.relative(service.dir, file), warnings)) err(line)
    }
  } catch (error) {
    undo()
    throw error
  }
  return 0
}
