// squawk's findings at this project's levels, with their statements and fixes;
// waivers one statement at a time, with a reason; the rules about how a file runs
// (in one transaction, or statement by statement); downs checked only for how they run.
import { describe, expect, test } from 'vitest'
import { migrationSafety, type SafetyFinding } from '../src/authoring/migration-safety.js'

const B = '\n--> statement-breakpoint\n'
const safety = (sql: string, kind: 'migration' | 'down' = 'migration') =>
  migrationSafety({ name: '0009_x.sql', sql }, { schema: 'auth', kind })
const summary = (findings: SafetyFinding[]) => findings.map((f) => [f.level, f.rule])

describe('squawk, at the levels that matter under live traffic', () => {
  test('a plain index on an existing table is an error: its statement, and the fix in this project’s terms', () => {
    const [finding, ...rest] = safety('CREATE INDEX "users_email_idx" ON "auth"."users" ("email");')
    expect(rest).toEqual([])
    expect(finding).toMatchObject({
      rule: 'require-concurrent-index-creation',
      level: 'error',
      statement: 'CREATE INDEX "users_email_idx" ON "auth"."users" ("email");',
    })
    expect(finding!.fix).toContain('first line is "-- migrate: no-transaction"')
    expect(finding!.fix).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS')
  })

  test('each finding points at its own statement', () => {
    const findings = safety(
      `ALTER TABLE "auth"."users" ADD COLUMN "bio" text;${B}ALTER TABLE "auth"."users" ADD CONSTRAINT "c" CHECK (length("bio") < 500);${B}ALTER TABLE "auth"."users" RENAME COLUMN "email" TO "mail";`,
    )
    expect(findings.map((f) => [f.rule, f.statement])).toEqual([
      [
        'constraint-missing-not-valid',
        'ALTER TABLE "auth"."users" ADD CONSTRAINT "c" CHECK (length("bio") < 500);',
      ],
      ['renaming-column', 'ALTER TABLE "auth"."users" RENAME COLUMN "email" TO "mail";'],
    ])
    expect(findings[1]!.steps.join('\n')).toContain(
      'release N (expand):   ALTER TABLE "auth"."users" ADD COLUMN "mail"',
    )
  })

  test('what the runner already does, and column-type preferences, are not reported', () => {
    expect(
      safety(
        `ALTER TABLE "auth"."users" ADD COLUMN "code" varchar(10);${B}ALTER TABLE "auth"."users" ADD COLUMN "n" integer DEFAULT 0 NOT NULL;`,
      ),
    ).toEqual([])
  })

  test('a volatile default rewrites the table; a constant one does not', () => {
    expect(
      summary(safety('ALTER TABLE "auth"."users" ADD COLUMN "seen" timestamptz DEFAULT clock_timestamp();')),
    ).toEqual([['error', 'adding-field-with-default']])
    expect(safety('ALTER TABLE "auth"."users" ADD COLUMN "seen" boolean DEFAULT false;')).toEqual([])
  })

  test('NOT NULL through a NOT VALID check, then VALIDATE in the next migration, passes; VALIDATE in the same one does not', () => {
    const check =
      'ALTER TABLE "auth"."users" ADD CONSTRAINT "users_bio_not_null" CHECK ("bio" IS NOT NULL) NOT VALID;'
    const validate = 'ALTER TABLE "auth"."users" VALIDATE CONSTRAINT "users_bio_not_null";'
    const setNotNull = 'ALTER TABLE "auth"."users" ALTER COLUMN "bio" SET NOT NULL;'
    const drop = 'ALTER TABLE "auth"."users" DROP CONSTRAINT "users_bio_not_null";'
    expect(safety(check)).toEqual([])
    expect(safety([validate, setNotNull, drop].join(B))).toEqual([])
    expect(summary(safety([check, validate].join(B)))).toEqual([['error', 'constraint-missing-not-valid']])
    expect(summary(safety(setNotNull))).toEqual([['error', 'adding-not-nullable-field']])
  })
})

describe('waivers', () => {
  const drop = 'ALTER TABLE "auth"."users" DROP COLUMN "nickname";'

  test('one statement, with its reason on the line above: listed as waived, not an error', () => {
    const findings = safety(
      `-- Contract step: release 41 stopped reading nickname.\n-- squawk-ignore ban-drop-column\n${drop}${B}${drop.replace('nickname', 'bio')}`,
    )
    expect(summary(findings)).toEqual([
      ['error', 'ban-drop-column'],
      ['waived', 'ban-drop-column'],
    ])
    expect(findings[0]!.statement).toContain('"bio"')
    expect(findings[1]!.message).toBe('Contract step: release 41 stopped reading nickname.')
  })

  test('without a reason, or for the whole file, a waiver is an error of its own', () => {
    expect(summary(safety(`-- squawk-ignore ban-drop-column\n${drop}`))).toEqual([['error', 'waiver-reason']])
    expect(summary(safety(`-- squawk-ignore-file\n${drop}`))).toEqual([['error', 'waiver-scope']])
  })
})

describe('how a file runs', () => {
  test('in a transaction: what PostgreSQL refuses in one is an error naming the way out', () => {
    expect(
      summary(
        safety(
          `CREATE INDEX CONCURRENTLY "i" ON "auth"."users" ("email");${B}DROP INDEX CONCURRENTLY "auth"."j";${B}REINDEX INDEX CONCURRENTLY "auth"."k";${B}VACUUM "auth"."users";`,
        ),
      ),
    ).toEqual([
      ['error', 'needs-no-transaction'],
      ['error', 'needs-no-transaction'],
      ['error', 'needs-no-transaction'],
      ['error', 'needs-no-transaction'],
    ])
  })

  test('marked no-transaction: every statement re-runnable, alone between breakpoints, its concurrent index named', () => {
    const good = `-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "i" ON "auth"."users" ("email");${B}DROP INDEX CONCURRENTLY IF EXISTS "auth"."j";`
    expect(safety(good)).toEqual([])
    const findings = safety(
      `-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY "i" ON "auth"."users" ("email");${B}CREATE INDEX CONCURRENTLY ON "auth"."users" ("username");${B}DROP INDEX CONCURRENTLY IF EXISTS "auth"."j"; DROP INDEX CONCURRENTLY IF EXISTS "auth"."k";`,
    )
    expect(summary(findings)).toEqual([
      ['error', 'prefer-robust-stmts'],
      ['error', 'concurrent-index-name'],
      ['error', 'one-statement-per-step'],
    ])
    expect(findings[0]!.fix).toContain('run again from its first statement after a failure or a crash')
  })

  test('the marker anywhere but the first line does nothing, and says so', () => {
    expect(
      summary(
        safety(
          `-- an index\n-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "i" ON "auth"."users" ("email");`,
        ),
      ),
    ).toEqual([
      ['error', 'misplaced-marker'],
      ['error', 'needs-no-transaction'],
    ])
  })

  test('a down: only what makes it fail or unsafe to run again', () => {
    expect(safety('DROP TABLE "auth"."users" CASCADE;', 'down')).toEqual([])
    expect(
      summary(safety('-- migrate: no-transaction\nDROP INDEX CONCURRENTLY "auth"."j";', 'down')),
    ).toEqual([['error', 'prefer-robust-stmts']])
    expect(summary(safety('CREATE INDEX CONCURRENTLY "i" ON "auth"."users" ("email");', 'down'))).toEqual([
      ['error', 'needs-no-transaction'],
    ])
  })
})
