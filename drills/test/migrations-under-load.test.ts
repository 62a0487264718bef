// Migrations that keep serving: steady reads and writes on auth's users table (30,000
// rows) while the next release's migrations apply, each run as the pre-deploy job
// (`node dist/migrate.js` of a copy of auth with the extra migrations):
//
// 1. a concurrent index build (a file marked `-- migrate: no-transaction`), a column
//    with a default, NOT NULL through a NOT VALID check then VALIDATE: 0 failed
//    requests, the longest request during each migration printed;
// 2. a long transaction holding a lock the next migration needs: the migration gives
//    up after lock_timeout, says who holds the lock, retries, and applies once the
//    transaction ends, while traffic keeps flowing;
// 3. kill -9 of the job while CREATE INDEX CONCURRENTLY waits for an old snapshot,
//    then the job again: no INVALID index left, the ledger consistent, the index built;
// 4. through PgBouncer in transaction mode, a no-transaction migration is refused
//    before anything of it runs.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { readMigrationFolder, status } from '@app/migrations'
import { migrationSafety, rolePassword } from '@app/migrations/authoring'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { eventually, migratedDatabase, ownerRoleUrl, query, runtimeRoleUrl } from './support/databases.js'
import { countFault, countRows, saveFigures } from './support/figures.js'
import { bearer, json, send } from './support/http.js'
import { describeLoad, type LoadRequest, type RunningLoad, steadyLoad } from './support/load.js'
import { startPgBouncer } from './support/pgbouncer.js'
import { copyServiceWithMigrations, type ServiceCopy } from './support/service-copy.js'
import { killLeftovers, type ServiceProcess, startReadyService } from './support/service-process.js'
import { authOptions, login, newUser, registerAdmin } from './support/stack.js'
import { newSigningKey } from './support/tokens.js'

const ROWS = 30_000
// Registrations hash with argon2id (about 25 ms of CPU each): a tenth of the mix keeps
// the load steady on two cores shared with PostgreSQL and the job.
const RATE = 40
const B = '--> statement-breakpoint'

// The next releases' migrations, cumulative: each phase's copy holds those before it.
const NEXT = [
  {
    tag: '9101_drill_users_username_created_idx',
    statements: [
      '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "users_drill_username_created_idx" ON "auth"."users" ("username", "created_at")',
    ],
  },
  {
    tag: '9102_drill_users_score',
    statements: ['ALTER TABLE "auth"."users" ADD COLUMN "drill_score" integer DEFAULT 0'],
  },
  {
    tag: '9103_drill_users_score_checked',
    statements: [
      'ALTER TABLE "auth"."users" ADD CONSTRAINT "users_drill_score_not_null" CHECK ("drill_score" IS NOT NULL) NOT VALID',
    ],
  },
  {
    tag: '9104_drill_users_score_not_null',
    statements: [
      'ALTER TABLE "auth"."users" VALIDATE CONSTRAINT "users_drill_score_not_null"',
      'ALTER TABLE "auth"."users" ALTER COLUMN "drill_score" SET NOT NULL',
      'ALTER TABLE "auth"."users" DROP CONSTRAINT "users_drill_score_not_null"',
    ],
  },
]
const BLOCKED = {
  tag: '9105_drill_users_note',
  statements: ['ALTER TABLE "auth"."users" ADD COLUMN "drill_note" text'],
}
const KILLED = {
  tag: '9106_drill_users_updated_idx',
  statements: [
    '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "users_drill_updated_idx" ON "auth"."users" ("updated_at", "id")',
  ],
}
const POOLED = {
  tag: '9107_drill_users_email_idx',
  statements: [
    '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "users_drill_email_idx" ON "auth"."users" ("email")',
  ],
}

let databaseUrl: string
let databaseName: string
let auth: ServiceProcess
let load: RunningLoad
const copies: ServiceCopy[] = []
const registered: string[] = []
/** Every request's span and outcome, for the longest request during each migration. */
const samples: { start: number; end: number; ok: boolean }[] = []
const figuresLines: string[] = []

interface MigrateJob {
  child: ChildProcess
  lines: string[]
  startedAt: number
  exited: Promise<{ code: number | null; endedAt: number }>
}

/** `node dist/migrate.js` in `dir`, as a Kubernetes Job runs it; its output line by line as it comes. */
function startMigrateJob(dir: string, env: Record<string, string>): MigrateJob {
  const child = spawn(process.execPath, ['dist/migrate.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const closed = [child.stdout!, child.stderr!].map((stream) => {
    const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
    reader.on('line', (line) => lines.push(line))
    return new Promise((resolve) => reader.once('close', resolve))
  })
  const exited = new Promise<{ code: number | null; endedAt: number }>((resolve) => {
    child.once('exit', (code) => void Promise.all(closed).then(() => resolve({ code, endedAt: Date.now() })))
  })
  return { child, lines, startedAt: Date.now(), exited }
}

interface LogEntry {
  msg: string
  time: number
  [field: string]: unknown
}

/** The job's pino log lines, parsed. */
function logOf(job: MigrateJob): LogEntry[] {
  return job.lines.flatMap((line) => {
    try {
      return line.startsWith('{') ? [JSON.parse(line) as LogEntry] : []
    } catch {
      return []
    }
  })
}

const messages = (job: MigrateJob) => logOf(job).map((entry) => entry.msg)

/** Requests that overlapped [from, to]: how many, how many failed, the longest. */
async function during(from: number, to: number) {
  // Let the requests in flight at `to` finish and be recorded.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const overlapping = samples.filter((s) => s.start < to && s.end > from)
  return {
    requests: overlapping.length,
    failed: overlapping.filter((s) => !s.ok).length,
    longestMs: Math.round(Math.max(0, ...overlapping.map((s) => s.end - s.start))),
  }
}

function print(line: string) {
  figuresLines.push(line)
  console.log(line)
}

async function invalidIndexes(): Promise<string[]> {
  const rows = await query<{ name: string }>(
    databaseUrl,
    `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relnamespace = 'auth'::regnamespace AND NOT i.indisvalid`,
  )
  return rows.map((r) => r.name)
}

async function advisoryLocks(): Promise<number> {
  const [row] = await query<{ n: number }>(
    databaseUrl,
    "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = $1)",
    [databaseName],
  )
  return row!.n
}

/** The ledger against the copy's folder: every migration applied once, each with its file's hash. */
async function expectLedgerConsistent(copy: ServiceCopy) {
  const report = await status({
    url: ownerRoleUrl(databaseUrl, 'auth'),
    schema: 'auth',
    migrationsFolder: copy.migrationsFolder,
  })
  expect(report.entries.map((e) => e.state)).toEqual(report.entries.map(() => 'applied'))
  const [row] = await query<{ rows: number; distinct: number }>(
    databaseUrl,
    'SELECT count(*)::int AS rows, count(DISTINCT created_at)::int AS distinct FROM auth.__drizzle_migrations',
  )
  expect(row).toEqual({ rows: report.entries.length, distinct: report.entries.length })
}

function copyWith(migrations: { tag: string; statements: string[] }[]): ServiceCopy {
  const copy = copyServiceWithMigrations('auth', migrations)
  copies.push(copy)
  return copy
}

function recorded(request: LoadRequest): LoadRequest {
  return {
    ...request,
    async run() {
      const start = performance.timeOrigin + performance.now()
      try {
        const outcome = await request.run()
        samples.push({
          start,
          end: performance.timeOrigin + performance.now(),
          ok: request.expect.includes(outcome.status),
        })
        return outcome
      } catch (error) {
        samples.push({ start, end: performance.timeOrigin + performance.now(), ok: false })
        throw error
      }
    },
  }
}

beforeAll(async () => {
  const database = await migratedDatabase('underload')
  databaseUrl = database.url
  databaseName = database.name
  await query(
    databaseUrl,
    `INSERT INTO auth.users (username, email, password_hash)
     SELECT 'seed_' || n, 'seed_' || n || '@example.com', 'not-a-hash' FROM generate_series(1, ${ROWS}) AS n`,
  )
  await query(databaseUrl, 'ANALYZE auth.users')
  const ids = (
    await query<{ id: string }>(databaseUrl, 'SELECT id FROM auth.users ORDER BY random() LIMIT 500')
  ).map((r) => r.id)
  auth = await startReadyService(authOptions(databaseUrl, await newSigningKey()))
  // An admin: the load lists users (users:read).
  const token = await login(auth, await registerAdmin(auth, databaseUrl))
  const statusOf = (response: Promise<{ status: number }>) => response.then((r) => ({ status: r.status }))
  const mix: LoadRequest[] = [
    {
      name: 'GET /auth/users/{id}',
      weight: 60,
      expect: [200],
      run: () =>
        statusOf(
          send(auth.baseUrl, {
            method: 'GET',
            path: `/auth/users/${ids[Math.floor(Math.random() * ids.length)]}`,
            headers: bearer(token),
          }),
        ),
    },
    {
      name: 'GET /auth/users',
      weight: 30,
      expect: [200],
      run: () =>
        statusOf(send(auth.baseUrl, { method: 'GET', path: '/auth/users?limit=20', headers: bearer(token) })),
    },
    {
      name: 'POST /auth/users',
      weight: 10,
      expect: [201],
      async run() {
        const response = await send(auth.baseUrl, { method: 'POST', path: '/auth/users', ...json(newUser()) })
        if (response.status === 201) registered.push(response.json<{ id: string }>().id)
        return { status: response.status }
      },
    },
  ]
  load = steadyLoad({ ratePerSecond: RATE, mix: mix.map(recorded) })
})

afterAll(async () => {
  await load?.stop()
  await killLeftovers()
  for (const copy of copies) copy.remove()
  saveFigures(import.meta.filename)
})

describe(`auth's users table (${ROWS} rows) under ${RATE} requests/s of reads and registrations`, () => {
  test('a concurrent index, a column with a default, NOT NULL through a NOT VALID check then VALIDATE: 0 failed requests', async () => {
    // The migrations pass the lint that add-migration and make check run.
    for (const migration of NEXT) {
      const sql = migration.statements.join(`\n${B}\n`)
      const errors = migrationSafety({ name: `${migration.tag}.sql`, sql }, { schema: 'auth' }).filter(
        (f) => f.level === 'error',
      )
      expect(errors, migration.tag).toEqual([])
    }
    // The same traffic without a migration first (once warmed up), to compare with.
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const quietFrom = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const baseline = await during(quietFrom, Date.now())
    print(
      `  no migration (1.5 s): ${baseline.requests} requests, ${baseline.failed} failed, longest ${baseline.longestMs} ms`,
    )
    const copy = copyWith(NEXT)
    const job = startMigrateJob(copy.dir, { MIGRATION_DATABASE_URL: ownerRoleUrl(databaseUrl, 'auth') })
    const { code } = await job.exited
    expect(code, job.lines.join('\n')).toBe(0)
    expect(messages(job)).toContain(
      'auth: applying 9101_drill_users_username_created_idx.sql without a transaction, statement by statement',
    )
    for (const entry of logOf(job).filter((e) => /: applied \d{4}_/.test(e.msg))) {
      const end = Number(entry.time)
      const durationMs = Number(entry.durationMs)
      const during_ = await during(end - durationMs, end)
      print(
        `  ${entry.migration}: ${Math.round(durationMs)} ms; ${during_.requests} requests meanwhile, ${during_.failed} failed, longest ${during_.longestMs} ms`,
      )
      expect(during_.failed).toBe(0)
    }
    const [column] = await query<{ nullable: string; default: string }>(
      databaseUrl,
      `SELECT is_nullable AS nullable, column_default AS default FROM information_schema.columns
        WHERE table_schema = 'auth' AND table_name = 'users' AND column_name = 'drill_score'`,
    )
    expect(column).toEqual({ nullable: 'NO', default: '0' })
    expect(await invalidIndexes()).toEqual([])
    await expectLedgerConsistent(copy)
  })

  test('behind a long transaction: lock_timeout, the holder named, a retry, applied once it ends; traffic keeps flowing', async () => {
    const copy = copyWith([...NEXT, BLOCKED])
    // A report in an open transaction, as the service's runtime role: the owner, which
    // migrates, is a member of that role and sees its query and since when.
    const holder = new pg.Client({
      connectionString: runtimeRoleUrl(databaseUrl, 'auth'),
      application_name: 'drill-long-report',
    })
    await holder.connect()
    try {
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      await holder.query('BEGIN')
      await holder.query('SELECT count(*) FROM auth.users')
      const job = startMigrateJob(copy.dir, {
        MIGRATION_DATABASE_URL: ownerRoleUrl(databaseUrl, 'auth'),
        MIGRATION_LOCK_TIMEOUT_MS: '300',
        MIGRATION_LOCK_RETRIES: '5',
      })
      const retry = await eventually(
        async () => messages(job).find((m) => m.includes('waited longer than lock_timeout (300 ms)')),
        'the migration to give up on the lock once',
      )
      expect(retry).toContain(
        `9105_drill_users_note.sql waited longer than lock_timeout (300 ms) for a lock; rolled back, retry 1 of 5`,
      )
      expect(retry).toContain(`pid ${pid}`)
      expect(retry).toContain('application_name "drill-long-report"')
      expect(retry).toContain('query "SELECT count(*) FROM auth.users"')
      expect(retry).toMatch(/in a transaction since \d{4}-/)
      await holder.query('COMMIT')
      const { code, endedAt } = await job.exited
      expect(code, job.lines.join('\n')).toBe(0)
      const retries = messages(job).filter((m) => m.includes('waited longer than lock_timeout')).length
      const meanwhile = await during(job.startedAt, endedAt)
      print(
        `  ${BLOCKED.tag}.sql behind a long transaction: ${retries} lock_timeout(s) of 300 ms then applied, ${endedAt - job.startedAt} ms in all; ${meanwhile.requests} requests meanwhile, ${meanwhile.failed} failed, longest ${meanwhile.longestMs} ms`,
      )
      expect(meanwhile.failed).toBe(0)
      await expectLedgerConsistent(copy)
    } finally {
      await holder.end()
    }
  })

  test('kill -9 during CREATE INDEX CONCURRENTLY, then the job again: no INVALID index, the ledger consistent, the index built', async () => {
    const copy = copyWith([...NEXT, BLOCKED, KILLED])
    // An old snapshot (another table's report) keeps the build waiting at its last phase.
    const snapshot = new pg.Client({
      connectionString: runtimeRoleUrl(databaseUrl, 'auth'),
      application_name: 'drill-old-snapshot',
    })
    await snapshot.connect()
    try {
      await snapshot.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
      await snapshot.query('SELECT count(*) FROM auth.login_rate_limits')
      const started = Date.now()
      const job = startMigrateJob(copy.dir, {
        MIGRATION_DATABASE_URL: ownerRoleUrl(databaseUrl, 'auth'),
        MIGRATION_LOCK_TIMEOUT_MS: '60000',
      })
      await eventually(async () => {
        const [row] = await query<{ phase: string }>(
          databaseUrl,
          "SELECT phase FROM pg_stat_progress_create_index WHERE relid = 'auth.users'::regclass",
        )
        return row?.phase === 'waiting for old snapshots'
      }, 'the index build to wait for the old snapshot')
      countFault('kill -9 during CREATE INDEX CONCURRENTLY')
      job.child.kill('SIGKILL')
      await job.exited
      // The server notices the client is gone (client_connection_check_interval, set by
      // the runner), cancels the build and releases the schema lock.
      await eventually(
        async () =>
          (
            await query(
              databaseUrl,
              "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'auth-migrate'",
              [databaseName],
            )
          ).length === 0,
        'the killed job’s session to end',
      )
      expect(await invalidIndexes()).toEqual(['users_drill_updated_idx'])
      expect(await advisoryLocks()).toBe(0)
      const killedAfterMs = Date.now() - started
      await snapshot.query('COMMIT')

      const again = startMigrateJob(copy.dir, { MIGRATION_DATABASE_URL: ownerRoleUrl(databaseUrl, 'auth') })
      const { code, endedAt } = await again.exited
      expect(code, again.lines.join('\n')).toBe(0)
      expect(messages(again).join('\n')).toContain(
        'index users_drill_updated_idx is INVALID (an interrupted concurrent build left it); dropping it to build it again',
      )
      expect(await invalidIndexes()).toEqual([])
      const [index] = await query<{ valid: boolean }>(
        databaseUrl,
        "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'auth.users_drill_updated_idx'::regclass",
      )
      expect(index).toEqual({ valid: true })
      await expectLedgerConsistent(copy)
      expect(await advisoryLocks()).toBe(0)
      const meanwhile = await during(started, endedAt)
      print(
        `  ${KILLED.tag}.sql: killed ${killedAfterMs} ms in, rebuilt by the next run in ${endedAt - again.startedAt} ms; ${meanwhile.requests} requests meanwhile, ${meanwhile.failed} failed, longest ${meanwhile.longestMs} ms`,
      )
      expect(meanwhile.failed).toBe(0)
    } finally {
      await snapshot.end()
    }
  })

  test('through PgBouncer in transaction mode, a no-transaction migration is refused and nothing of it runs', async () => {
    const copy = copyWith([...NEXT, BLOCKED, KILLED, POOLED])
    const pgbouncer = await startPgBouncer({
      serverUrl: databaseUrl,
      databases: [databaseName],
      users: [{ name: 'auth', password: rolePassword('auth', {}) }],
    })
    try {
      const before = readMigrationFolder(copy.migrationsFolder).length - 1
      const job = startMigrateJob(copy.dir, {
        MIGRATION_DATABASE_URL: pgbouncer.url('auth', rolePassword('auth', {}), databaseName),
      })
      const { code } = await job.exited
      expect(code).toBe(1)
      const output = job.lines.join('\n')
      expect(output).toContain('9107_drill_users_email_idx.sql runs without a transaction')
      expect(output).toContain('goes through a pooler, e.g. PgBouncer in transaction mode')
      expect(output).toContain('Point MIGRATION_DATABASE_URL directly at PostgreSQL')
      const [ledger] = await query<{ n: number }>(
        databaseUrl,
        'SELECT count(*)::int AS n FROM auth.__drizzle_migrations',
      )
      expect(ledger!.n).toBe(before)
      expect(
        await query(databaseUrl, "SELECT 1 FROM pg_class WHERE relname = 'users_drill_email_idx'"),
      ).toEqual([])
      expect(await advisoryLocks()).toBe(0)
      print('  9107 through PgBouncer (transaction mode): refused, nothing applied')
    } finally {
      await pgbouncer.stop()
    }
  })

  test('the load throughout: 0 failed requests, every acknowledged registration in the database', async () => {
    const report = await load.stop()
    console.log(
      [`migrations under load on auth.users (${ROWS} rows): ${describeLoad(report)}`, ...figuresLines].join(
        '\n',
      ),
    )
    expect(report.failures).toEqual([])
    const found = await query(databaseUrl, 'SELECT id FROM auth.users WHERE id = ANY($1::uuid[])', [
      registered,
    ])
    expect(countRows(registered.length, found.length)).toBe(0)
  })
})
