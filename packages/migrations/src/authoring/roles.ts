// Each service logs in as two roles (infra/postgres/bootstrap-service.sql): its
// schema's owner, which runs the migrations, and `<service>_app`, which serves
// requests with DML only. The make verbs derive both connections from the one
// admin URL: same server and database, the role's name, its password.
import type { ServiceInfo } from './workspace.js'

/** Environment variables, as process.env holds them. */
export type Env = Record<string, string | undefined>

type Service = Pick<ServiceInfo, 'name'>

export interface ServiceRoles {
  /** Owns the schema: migrations, rollback, status, the ledger. */
  owner: string
  /** Serves requests: SELECT/INSERT/UPDATE/DELETE on the schema's tables. */
  runtime: string
}

export function serviceRoles(service: Service): ServiceRoles {
  return { owner: service.name, runtime: `${service.name}_app` }
}

/** `<ROLE>_DB_PASSWORD` (AUTH_DB_PASSWORD, AUTH_APP_DB_PASSWORD), or the development default `<role>-dev-password`. */
export function rolePassword(role: string, env: Env): string {
  return env[passwordVariable(role)] || `${role}-dev-password`
}

export function passwordVariable(role: string): string {
  return `${role.toUpperCase()}_DB_PASSWORD`
}

/** The runtime role's statement_timeout: `<SERVICE>_STATEMENT_TIMEOUT` (a PostgreSQL duration), default 5s. */
export function statementTimeout(service: Service, env: Env): string {
  return env[`${service.name.toUpperCase()}_STATEMENT_TIMEOUT`] || '5s'
}

/** The admin URL's server and database, logged in as `role`. */
export function roleUrl(adminUrl: string, role: string, env: Env): string {
  const url = new URL(adminUrl)
  url.username = encodeURIComponent(role)
  url.password = encodeURIComponent(rolePassword(role, env))
  return url.toString()
}

/** As the schema's owner: for migrations and every make verb that reads or changes the schema. */
export function ownerUrl(adminUrl: string, service: Service, env: Env): string {
  return roleUrl(adminUrl, serviceRoles(service).owner, env)
}

/** As the runtime role: what a service's requests use. */
export function runtimeUrl(adminUrl: string, service: Service, env: Env): string {
  return roleUrl(adminUrl, serviceRoles(service).runtime, env)
}

/** The two connection variables a service process reads. */
export function serviceConnections(
  adminUrl: string,
  service: Service,
  env: Env,
): { DATABASE_URL: string; MIGRATION_DATABASE_URL: string } {
  return {
    DATABASE_URL: runtimeUrl(adminUrl, service, env),
    MIGRATION_DATABASE_URL: ownerUrl(adminUrl, service, env),
  }
}
