// Runs infra/postgres/bootstrap-service.sql, the file the docker-compose init
// script feeds to psql, without psql: its two psql variables are substituted as
// SQL literals here, so both paths run exactly the same statements.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { type Env, servicePassword } from './admin-database.js'
import { repoRoot } from './repo.js'

export function bootstrapSqlPath(root = repoRoot()): string {
  return path.join(root, 'infra', 'postgres', 'bootstrap-service.sql')
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

export function renderBootstrapSql(
  variables: { service: string; password: string },
  root = repoRoot(),
): string {
  return readFileSync(bootstrapSqlPath(root), 'utf8').replace(
    /:'(service|password)'/g,
    (_match, name: 'service' | 'password') => literal(variables[name]),
  )
}

export interface BootstrapResult {
  service: string
  /** False when the role existed: its password was left as it was. */
  createdRole: boolean
  createdSchema: boolean
}

/** Creates (or confirms) each service's role and schema in the admin URL's database. */
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
      const { rows } = await client.query<{ role: boolean; schema: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS role,
                EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema`,
        [service.name],
      )
      await client.query(
        renderBootstrapSql({ service: service.name, password: servicePassword(service, env) }),
      )
      results.push({ service: service.name, createdRole: !rows[0]!.role, createdSchema: !rows[0]!.schema })
    }
    return results
  } finally {
    await client.end()
  }
}
