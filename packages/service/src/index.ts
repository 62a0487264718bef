// Repositories write each query once, prepared per session (app.db or a transaction).
export { preparedPerSession } from '@app/db'
export {
  AUDIENCE_PATTERN,
  type AuthClientConfig,
  authClientEnv,
  authSecuritySchemes,
  DEFAULT_AUTH_ISSUER,
  ISSUER_PATTERN,
  registerAuthTokens,
  toAuthClientConfig,
} from './bearer/auth-client.js'
export {
  bearerAuthPlugin,
  type Caller,
  callerOf,
  hasScope,
  requiredScopeOf,
  requireScope,
} from './bearer/bearer-auth.js'
export { type RemoteKeysOptions, remoteSigningKeys } from './bearer/remote-keys.js'
export {
  ACCESS_TOKEN_TYP,
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedToken,
} from './bearer/token-verifier.js'
export {
  ConfigError,
  DEFAULT_HTTP_TIMEOUTS,
  type HttpTimeouts,
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
  defineErrors,
  type ErrorDefinition,
  type ErrorRegistry,
  KIT_ERRORS,
  type KitErrorCode,
  kitErrors,
} from './error-codes.js'
export {
  ApiError,
  type ErrorBody,
  errorHandler,
  type FieldError,
  isDatabaseUnavailable,
  toErrorBody,
} from './errors.js'
export type { LifecycleState, ReadinessCheck } from './lifecycle.js'
export { loggerOptions } from './logging.js'
export { type ServiceMetrics, UNMATCHED_ROUTE } from './metrics.js'
export { type Cursor, decodeCursor, encodeCursor, Page, PageQuery, toPage } from './pagination.js'
export { deleteInBatches, type PeriodicTaskOptions, registerPeriodicTask } from './periodic-task.js'
export { runService, type ServiceDefinition } from './run-service.js'
export { described, Nullable, Timestamp } from './schemas.js'
export { IdParams, isUuid, UUID_PATTERN, Uuid } from './uuid.js'
export { invalidSchemasIn } from './validation.js'
