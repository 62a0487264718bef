// What each squawk rule means here: an error (a statement that blocks or breaks the
// service under live traffic, or fails outright: `make check` fails until it is
// fixed or waived), a warning (printed), or not checked at all; and the fix, in
// this project's terms. Rules squawk adds later are warnings until sorted here.
//
// A finding is waived for one statement by squawk's own comment on the line right
// above it, with the reason on the comment line above that:
//
//   -- Contract step of release 42: no replica reads nickname since release 41.
//   -- squawk-ignore ban-drop-column
//   ALTER TABLE "auth"."users" DROP COLUMN "nickname";

export type SquawkLevel = 'error' | 'warning'

/** See README: Production topology > Rolling deploys: expand, then contract. */
export const EXPAND_CONTRACT = 'README "Rolling deploys: expand, then contract"'

const NO_TRANSACTION_FILE =
  'a migration of its own whose first line is "-- migrate: no-transaction" (make add-migration svc=<service> msg="..." custom=1)'

const WAIVE = (rule: string) =>
  `If it is a contract step (no replica of the previous release uses what it removes), waive it: a comment line with the reason, then "-- squawk-ignore ${rule}" right above the statement.`

export const SQUAWK_RULES: Record<string, { level: SquawkLevel; fix: string }> = {
  'require-concurrent-index-creation': {
    level: 'error',
    fix: `Writes to the table wait for the whole index build. Build it concurrently in ${NO_TRANSACTION_FILE}: CREATE INDEX CONCURRENTLY IF NOT EXISTS "<name>" ON ... (and drop it from this file).`,
  },
  'require-concurrent-index-deletion': {
    level: 'error',
    fix: `DROP INDEX takes an ACCESS EXCLUSIVE lock on the table. Use DROP INDEX CONCURRENTLY IF EXISTS in ${NO_TRANSACTION_FILE}.`,
  },
  'require-concurrent-reindex': {
    level: 'error',
    fix: `Use REINDEX ... CONCURRENTLY in ${NO_TRANSACTION_FILE}.`,
  },
  'require-concurrent-partition-detach': {
    level: 'error',
    fix: `Use ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY in ${NO_TRANSACTION_FILE}.`,
  },
  'ban-concurrent-index-creation-in-transaction': {
    level: 'error',
    fix: `PostgreSQL refuses CONCURRENTLY inside a transaction, and every migration runs in one unless it opts out: move the statement to ${NO_TRANSACTION_FILE}, written to run twice (IF NOT EXISTS).`,
  },
  'constraint-missing-not-valid': {
    level: 'error',
    fix: 'Add it NOT VALID (a brief lock, no scan), then VALIDATE CONSTRAINT in a later migration: it scans without blocking reads or writes. Both in one transaction keep the lock for the whole scan.',
  },
  'adding-foreign-key-constraint': {
    level: 'error',
    fix: 'Add it NOT VALID, then VALIDATE CONSTRAINT in a later migration: validating scans the table without blocking writes on either table.',
  },
  'adding-not-nullable-field': {
    level: 'error',
    fix: `SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock. Prove it first with a check constraint (${EXPAND_CONTRACT}):`,
  },
  'adding-required-field': {
    level: 'error',
    fix: `A NOT NULL column without a default fails on a table that has rows, and breaks the previous release's inserts. Expand, then contract (${EXPAND_CONTRACT}):`,
  },
  'adding-field-with-default': {
    level: 'error',
    fix: 'A volatile default (clock_timestamp(), random(), gen_random_uuid()) rewrites the table under an ACCESS EXCLUSIVE lock. Add the column without it (or with a constant default: no rewrite on PostgreSQL 11+), backfill in batches in a custom migration, then SET DEFAULT.',
  },
  'adding-serial-primary-key-field': {
    level: 'error',
    fix: `Adding a primary key builds its index under an ACCESS EXCLUSIVE lock. Build a unique index concurrently first (${NO_TRANSACTION_FILE}), then ADD CONSTRAINT ... PRIMARY KEY USING INDEX.`,
  },
  'disallowed-unique-constraint': {
    level: 'error',
    fix: `Adding a UNIQUE constraint builds its index under lock. Build the unique index concurrently first (${NO_TRANSACTION_FILE}), then ADD CONSTRAINT ... UNIQUE USING INDEX.`,
  },
  'changing-column-type': {
    level: 'error',
    fix: `A type change rewrites the table under an ACCESS EXCLUSIVE lock, and the previous release still reads and writes the old type. Expand, then contract (${EXPAND_CONTRACT}):`,
  },
  'renaming-column': {
    level: 'error',
    fix: `The previous release's replicas still use the old name while the deploy rolls. Expand, then contract (${EXPAND_CONTRACT}):`,
  },
  'renaming-table': {
    level: 'error',
    fix: `The previous release's replicas still use the old name while the deploy rolls (${EXPAND_CONTRACT}):`,
  },
  'ban-drop-column': {
    level: 'error',
    fix: `The previous release's replicas may still read or write it while the deploy rolls, and its data is gone. Drop a column only as a contract step, a release after the code stopped using it (${EXPAND_CONTRACT}). ${WAIVE('ban-drop-column')}`,
  },
  'ban-drop-table': {
    level: 'error',
    fix: `The previous release's replicas may still use it while the deploy rolls, and every row is gone. Drop a table only as a contract step (${EXPAND_CONTRACT}). ${WAIVE('ban-drop-table')}`,
  },
  'ban-alter-domain-with-add-constraint': {
    level: 'error',
    fix: 'Checks every column of the domain while holding its locks. Add a CHECK ... NOT VALID on those columns, then VALIDATE it in a later migration.',
  },
  'prefer-robust-stmts': {
    level: 'error',
    fix: 'A file without a transaction is run again from its first statement after a failure or a crash: write each statement so it can run twice (IF NOT EXISTS / IF EXISTS), and keep statements that need no CONCURRENTLY in transactional migrations.',
  },
  'transaction-nesting': {
    level: 'error',
    fix: 'The runner gives each migration its own transaction: no BEGIN, COMMIT or ROLLBACK in the file.',
  },
  'ban-uncommitted-transaction': {
    level: 'error',
    fix: 'The runner gives each migration its own transaction: no BEGIN, COMMIT or ROLLBACK in the file.',
  },
  'ban-drop-database': { level: 'error', fix: 'A migration never drops a database.' },
  'ban-truncate-cascade': {
    level: 'error',
    fix: 'CASCADE empties every table that references this one too. Name each table to empty.',
  },
  'identifier-too-long': {
    level: 'error',
    fix: 'PostgreSQL cuts names at 63 bytes, so the name in the database would not be the one written: give the index or constraint a shorter name in the models.',
  },
  'ban-duplicate-column-assignments': {
    level: 'error',
    fix: 'PostgreSQL refuses a column assigned twice in one UPDATE.',
  },
  'ban-drop-not-null': {
    level: 'warning',
    fix: 'The previous release may rely on the column never being NULL while the deploy rolls.',
  },
  'ban-create-domain-with-constraint': {
    level: 'warning',
    fix: "A domain's constraints cannot be changed later without checking every column of the domain under lock; a CHECK on the column can.",
  },
  'require-enum-value-ordering': {
    level: 'warning',
    fix: 'Say where the new value goes (BEFORE / AFTER).',
  },
  'unused-ignore': {
    level: 'warning',
    fix: 'A squawk-ignore comment that waives nothing: a misspelt rule, or a statement that no longer needs it.',
  },
}

/**
 * Never checked: the runner sets lock_timeout and statement_timeout itself on every
 * migration statement; the column-type preferences are the models' business (and
 * changing a type later is caught by changing-column-type); schemas are the
 * isolation lint's.
 */
export const SQUAWK_EXCLUDED = [
  'require-lock-timeout',
  'require-statement-timeout',
  'require-timeout-settings',
  'prefer-bigint-over-int',
  'prefer-bigint-over-smallint',
  'prefer-identity',
  'prefer-text-field',
  'prefer-timestamptz',
  'ban-char-field',
] as const

/** In downs only what makes the down fail or unsafe to re-run is checked: a down undoes its migration by design. */
export const DOWN_RULES = new Set([
  'ban-concurrent-index-creation-in-transaction',
  'prefer-robust-stmts',
  'transaction-nesting',
  'ban-uncommitted-transaction',
  'ban-drop-database',
  'ban-duplicate-column-assignments',
])

export function squawkRule(rule: string): { level: SquawkLevel; fix: string } {
  return SQUAWK_RULES[rule] ?? { level: 'warning', fix: `See https://squawkhq.com/docs/${rule}` }
}
