export {
  ConfigError,
  loadEnv,
  type ServiceConfig,
  serviceEnv,
  type TrustProxy,
  toServiceConfig,
} from './config.js'
export { createServiceApp, type ServiceApp, type ServiceAppOptions } from './create-app.js'
export type { Db } from './database-plugin.js'
export type { DocsOptions } from './docs.js'
export {
  ApiError,
  type ErrorBody,
  ErrorResponse,
  errorHandler,
  errorResponses,
  type FieldError,
  isDatabaseUnavailable,
  toErrorBody,
} from './errors.js'
export type { LifecycleState, ReadinessCheck } from './lifecycle.js'
export { loggerOptions } from './logging.js'
export { type Cursor, decodeCursor, encodeCursor, Page, PageQuery, toPage } from './pagination.js'
export { deleteInBatches, type PeriodicTaskOptions, registerPeriodicTask } from './periodic-task.js'
export { runService, type ServiceDefinition } from './run-service.js'
export { invalidSchemasIn } from './validation.js'
