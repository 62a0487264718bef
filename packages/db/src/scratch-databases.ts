// Throwaway databases on a server the caller administers: for tests (one per test
// file, cloned from a migrated template), `make check`'s reference schema, benchmarks.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { quoteIdent } from './identifiers.js'

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

/** The same server and database, another login. */
export function withUser(url: string, user: string, password: string): string {
  const parsed = new URL(url)
  parsed.username = encodeURIComponent(user)
  parsed.password = encodeURIComponent(password)
  return parsed.toString()
}

export interface ScratchDatabase {
  name: string
  /** Same credentials as the admin URL. */
  url: string
  drop(): Promise<void>
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'test-admin' })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/**
 * A new, empty (or template-cloned) database named `<prefix>_<random>`. Give every
 * test run its own prefix so leftovers of a crashed run can be found and dropped.
 */
export async function createScratchDatabase(
  adminUrl: string,
  options: { prefix: string; template?: string },
): Promise<ScratchDatabase> {
  const name = `${options.prefix}_${randomBytes(5).toString('hex')}`.slice(0, 63)
  const template = options.template ? ` TEMPLATE ${quoteIdent(options.template)}` : ''
  await adminQuery(adminUrl, `CREATE DATABASE ${quoteIdent(name)}${template}`)
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  }
}

export async function dropDatabasesWithPrefix(adminUrl: string, prefix: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'test-admin' })
  await client.connect()
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [prefix],
    )
    for (const { datname } of rows) {
      await client.query(`ALTER DATABASE ${quoteIdent(datname)} WITH IS_TEMPLATE false`)
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`)
    }
    return rows.length
  } finally {
    await client.end()
  }
}
