export {
  connectClient,
  DatabaseUnavailableError,
  isTransientConnectionError,
  type RetryOptions,
  withRetry,
} from './connect.js'
export { describeTarget, parseConnectionTarget, redactUrl } from './connection-target.js'
export { DescribedStatementsClient, isPlannedStatement } from './described-statements.js'
export { quoteIdent } from './identifiers.js'
export { isPipelinedRead, PipelinedQueries, STALL_MS } from './pipelined-queries.js'
export {
  createServiceDatabase,
  type ServiceDatabase,
  type ServiceDatabaseOptions,
  waitForDatabase,
} from './pool.js'
export { preparedPerSession } from './prepared-statements.js'
export { queryOnce } from './query-once.js'
export {
  createScratchDatabase,
  dropDatabasesWithPrefix,
  type ScratchDatabase,
  withDatabase,
  withUser,
} from './scratch-databases.js'
