// Which names `make new-service` accepts. A service's name is at once its folder, its
// PostgreSQL schema and owner role (plus `<name>_app`), its package @app/<name>, its
// environment variables' prefix (<NAME>_PORT, <NAME>_DB_PASSWORD, <NAME>_URL), a
// docker-compose service, Kubernetes objects and a host name: letters and digits
// only is what all of them take unquoted (Kubernetes and DNS refuse `_`, SQL
// identifiers `-`).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '@app/migrations/authoring'

const NAME = /^[a-z][a-z0-9]{0,30}$/

const USAGE = 'make new-service name=<name> [port=<port>]'

/** What the project itself calls by these names: never a service's. */
const PROJECT_NAMES: Record<string, string> = {
  public: "PostgreSQL's default schema",
  none: 'a role name PostgreSQL reserves',
  postgres: 'the admin role, the docker-compose and Kubernetes database',
  drizzle: "drizzle's default migrations schema",
  app: 'the database',
  database: "a name whose <NAME>_URL would be DATABASE_URL, every service's connection",
  adminer: 'a docker-compose service',
  pgbouncer: 'the Kubernetes connection pooler',
}

// PostgreSQL's reserved key words (letters only: the others cannot pass NAME), which
// no schema or role can be called unquoted.
const SQL_RESERVED = new Set(
  `all analyse analyze and any array as asc asymmetric both case cast check collate column constraint
  create default deferrable desc distinct do else end except false fetch for foreign from grant group
  having in initially intersect into lateral leading limit localtime localtimestamp not null offset on
  only or order placing primary references returning select some symmetric table then to trailing true
  union unique user using variadic when where window with`.split(/\s+/),
)

/** The names of the workspace's packages (`@app/db` -> db), which @app/<name> must not repeat. */
function workspacePackageNames(root: string): Set<string> {
  const manifest = readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8')
  const patterns = [...manifest.matchAll(/^ {2}- (\S+)$/gm)].map((m) => m[1]!)
  const dirs = patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [path.join(root, pattern)]
    const parent = path.join(root, pattern.slice(0, -2))
    if (!existsSync(parent)) return []
    return readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(parent, entry.name))
  })
  const names = new Set<string>()
  for (const dir of dirs) {
    const file = path.join(dir, 'package.json')
    if (!existsSync(file)) continue
    const name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name ?? ''
    names.add(name.replace(/^@app\//, ''))
  }
  return names
}

/** As messages show a name: quoted, escaped (a newline stays on the line), cut when long. */
function quote(name: string): string {
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}...` : name)
}

/** The name, or a UsageError saying in one line why not. */
export function checkServiceName(name: string | undefined, root: string): string {
  if (!name) {
    throw new UsageError(
      `name is required: ${USAGE}; a lower-case letter, then lower-case letters or digits (up to 31)`,
    )
  }
  if (name.startsWith('pg_')) {
    throw new UsageError(`${quote(name)} is reserved: PostgreSQL keeps schema and role names pg_* for itself`)
  }
  if (name.endsWith('_app')) {
    throw new UsageError(`${quote(name)} is reserved: <service>_app is each service's runtime role`)
  }
  if (name === 'information_schema')
    throw new UsageError(`${quote(name)} is reserved: it is PostgreSQL's catalog`)
  if (!NAME.test(name)) {
    throw new UsageError(
      `${quote(name)} cannot name a service: use a lower-case letter, then up to 30 lower-case letters or digits (it becomes a schema, roles, a package, environment variables and Kubernetes names: no '_', '-' or upper case)`,
    )
  }
  const project = PROJECT_NAMES[name]
  if (project) throw new UsageError(`${quote(name)} is reserved: it is ${project}`)
  if (SQL_RESERVED.has(name)) {
    throw new UsageError(
      `${quote(name)} is reserved: a PostgreSQL key word cannot name a schema or role unquoted`,
    )
  }
  if (existsSync(path.join(root, 'services', name))) {
    throw new UsageError(`${quote(name)} exists already: services/${name} is there`)
  }
  if (workspacePackageNames(root).has(name)) {
    throw new UsageError(`${quote(name)} is taken: the workspace has a package @app/${name}`)
  }
  return name
}
