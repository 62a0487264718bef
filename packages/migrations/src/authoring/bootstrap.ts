// Runs infra/postgres/bootstrap-service.sql, the file the docker-compose init
// script feeds to psql, without psql: its psql variables are substituted as SQL
// literals here, so both paths run exactly the same statements.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import type { Env } from './roles.js'
import { rolePassword, serviceRoles, statementTimeout } from './roles.js'
import { repoRoot } from './workspace.js'

export function bootstrapSqlPath(root = repoRoot()): string {
  return path.join(root, 'infra', 'postgres', 'bootstrap-service.sql')
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

export interface BootstrapVariables {
  service: string
  /** The owner role's password. */
  password: string
  /** The runtime role's password. */
  app_password: string
  /** The runtime role's statement_timeout, a PostgreSQL duration such as 5s. */
  statement_timeout: string
}

export function renderBootstrapSql(variables: BootstrapVariables, root = repoRoot()): string {
  return readFileSync(bootstrapSqlPath(root), 'utf8').replace(
    /:'(service|password|app_password|statement_timeout)'/g,
    (_match, name: keyof BootstrapVariables) => literal(variables[name]),
  )
}

/** The variables for one service, from `<ROLE>_DB_PASSWORD` and `<SERVICE>_STATEMENT_TIMEOUT` or their defaults. */
export function bootstrapVariables(service: { name: string }, env: Env): BootstrapVariables {
  const roles = serviceRoles(service)
  return {
    service: service.name,
    password: rolePassword(roles.owner, env),
    app_password: rolePassword(roles.runtime, env),
    statement_timeout: statementTimeout(service, env),
  }
}

export interface BootstrapResult {
  service: string
  /** The roles this run created (with their passwords); a role that existed kept its password. */
  createdRoles: string[]
  createdSchema: boolean
}

/** Creates (or confirms) each service's roles and schema in the admin URL's database. */
export async function bootstrapServices(
  adminUrl: string,
  services: { name: string }[],
  env: Env,
): Promise<BootstrapResult[]> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'bootstrap' })
  await client.connect()
  try {
    const results: BootstrapResult[] = []
    for (const service of services) {
      const roles = Object.values(serviceRoles(service))
      const { rows } = await client.query<{ roles: string[]; schema: boolean }>(
        `SELECT ARRAY(SELECT rolname::text FROM pg_roles WHERE rolname = ANY($2::text[])) AS roles,
                EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema`,
        [service.name, roles],
      )
      await client.query(renderBootstrapSql(bootstrapVariables(service, env)))
      results.push({
        service: service.name,
        createdRoles: roles.filter((role) => !rows[0]!.roles.includes(role)),
        createdSchema: !rows[0]!.schema,
      })
    }
    return results
  } finally {
    await client.end()
  }
}
