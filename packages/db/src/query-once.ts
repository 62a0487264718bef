// One statement on a connection of its own, opened and closed around it: for setup
// and checks outside any pool (tests reading what the database holds, admin steps).
import pg from 'pg'

export async function queryOnce<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end()
  }
}
