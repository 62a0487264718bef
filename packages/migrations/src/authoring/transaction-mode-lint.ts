// Whether a file's statements fit how the runner will run it, from PostgreSQL's
// parse tree. In one transaction (the default): nothing PostgreSQL refuses inside
// one (squawk's own rule misses a CREATE INDEX CONCURRENTLY alone in its file). Marked
// `-- migrate: no-transaction`: each statement alone between breakpoints (sent
// together they would run as one implicit transaction), and each CREATE INDEX
// CONCURRENTLY named and written so the runner recognises it, since that is how it
// finds the INVALID index an interrupted build leaves and rebuilds it.
import {
  concurrentIndexName,
  misplacedNoTransactionMarker,
  NO_TRANSACTION_MARKER,
  splitStatements,
} from '../index.js'
import { type AstNode, parseSql, SqlSyntaxError, unwrap } from './sql-parser.js'

export interface TransactionModeProblem {
  rule: 'misplaced-marker' | 'needs-no-transaction' | 'one-statement-per-step' | 'concurrent-index-name'
  message: string
  fix: string
  statement: string
}

const WRITE_NO_TRANSACTION = `a migration of its own whose first line is "${NO_TRANSACTION_MARKER}" (make add-migration svc=<service> msg="..." custom=1), each statement written to run twice`

/** What PostgreSQL refuses inside a transaction block. */
function refusedInTransaction(type: string, node: AstNode): string | null {
  const hasOption = (name: string) =>
    ((node.params as unknown[]) ?? []).some((p) => unwrap(p)?.node.defname === name)
  switch (type) {
    case 'IndexStmt':
      return node.concurrent ? 'CREATE INDEX CONCURRENTLY' : null
    case 'DropStmt':
      return node.concurrent ? 'DROP INDEX CONCURRENTLY' : null
    case 'ReindexStmt':
      return hasOption('concurrently') ? 'REINDEX ... CONCURRENTLY' : null
    case 'VacuumStmt':
      return node.is_vacuumcmd ? 'VACUUM' : null
    case 'AlterTableStmt':
      return ((node.cmds as unknown[]) ?? []).some((cmd) => {
        const f = unwrap(cmd)?.node
        return f?.subtype === 'AT_DetachPartition' && unwrap(f.def)?.node.concurrent
      })
        ? 'DETACH PARTITION ... CONCURRENTLY'
        : null
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM'
    case 'CreatedbStmt':
    case 'DropdbStmt':
      return 'CREATE / DROP DATABASE'
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
      return 'CREATE / DROP TABLESPACE'
    case 'CreateSubscriptionStmt':
    case 'DropSubscriptionStmt':
      return 'CREATE / DROP SUBSCRIPTION'
    default:
      return null
  }
}

export function transactionModeProblems(sql: string, transactional: boolean): TransactionModeProblem[] {
  const problems: TransactionModeProblem[] = []
  if (misplacedNoTransactionMarker(sql)) {
    problems.push({
      rule: 'misplaced-marker',
      message: `"${NO_TRANSACTION_MARKER}" counts only as the file's very first line; here it does nothing`,
      fix: 'Move it to the first line (the file then runs statement by statement), or remove it.',
      statement:
        sql
          .split('\n')
          .find((line) => /migrate:\s*no-transaction/i.test(line))
          ?.trim() ?? '',
    })
  }
  for (const statement of splitStatements(sql)) {
    let parsed: ReturnType<typeof parseSql>
    try {
      parsed = parseSql(statement)
    } catch (error) {
      if (error instanceof SqlSyntaxError) continue // the isolation lint reports it
      throw error
    }
    if (transactional) {
      for (const { type, node } of parsed) {
        const what = refusedInTransaction(type, node)
        if (!what) continue
        problems.push({
          rule: 'needs-no-transaction',
          message: `PostgreSQL refuses ${what} inside a transaction, and this migration runs in one`,
          fix: `Move it to ${WRITE_NO_TRANSACTION}.`,
          statement,
        })
      }
      continue
    }
    if (parsed.length > 1) {
      problems.push({
        rule: 'one-statement-per-step',
        message: `${parsed.length} statements between two breakpoints: sent together, they run as one implicit transaction (which CONCURRENTLY refuses), and a failure leaves it unclear which ran`,
        fix: 'Put "--> statement-breakpoint" between them.',
        statement,
      })
    }
    for (const { type, node, text } of parsed) {
      if (type !== 'IndexStmt' || !node.concurrent) continue
      if (!node.idxname) {
        problems.push({
          rule: 'concurrent-index-name',
          message:
            'CREATE INDEX CONCURRENTLY without a name: after an interrupted build the runner finds the INVALID index it left by its name, to build it again',
          fix: 'Name the index: CREATE INDEX CONCURRENTLY IF NOT EXISTS "<name>" ON ...',
          statement,
        })
      } else if (concurrentIndexName(text) !== node.idxname) {
        problems.push({
          rule: 'concurrent-index-name',
          message: `the runner does not recognise this as building index "${node.idxname}", so it could not rebuild what an interrupted build leaves`,
          fix: 'Write it as CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] "<name>" ON <table> ..., nothing between those words.',
          statement,
        })
      }
    }
  }
  return problems
}
