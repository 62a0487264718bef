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

/** Creates (or confirms) each service's role and schema in the admin URL's database. */
export async function bootstrapServices(
  adminUrl: string,
  services: { name: string }[],
  env: Env,
): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'bootstrap' })
  await client.connect()
  try {
    for (const service of services) {
      await client.query(
        renderBootstrapSql({ service: service.name, password: servicePassword(service, env) }),
      )
    }
  } finally {
    await client.end()
  }
}
