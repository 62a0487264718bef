// The example resource (__name__.items). Repositories take `db` (the pool or a
// transaction), never the app, so a route can run several in one transaction.
import { type Cursor, type Db, preparedPerSession } from '@app/service'
import { desc, eq, sql } from 'drizzle-orm'
import { items } from '../db/schema.js'

export type ItemRow = typeof items.$inferSelect
export type NewItem = Pick<typeof items.$inferInsert, 'name'>

export async function insertItem(db: Db, values: NewItem): Promise<ItemRow> {
  const [row] = await db.insert(items).values(values).returning()
  return row!
}

// A read on every request: a named prepared statement (parsed and planned once per
// connection), built once per session (the pool, or a connection's transactions).
// DB_PREPARED_STATEMENTS=false sends it unnamed, behind PgBouncer < 1.21.
const byId = preparedPerSession((db: Db) =>
  db
    .select()
    .from(items)
    .where(eq(items.id, sql.placeholder('id')))
    .prepare('__name___find_item'),
)

export async function findItem(db: Db, id: string): Promise<ItemRow | undefined> {
  const [row] = await byId(db).execute({ id })
  return row
}

/** `limit + 1` rows, newest first, strictly after the cursor (keyset on created_at, id): for toPage(). */
export async function listItems(db: Db, page: { limit: number; after?: Cursor }): Promise<ItemRow[]> {
  const after = page.after
  return db
    .select()
    .from(items)
    .where(
      after
        ? sql`(${items.createdAt}, ${items.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)`
        : undefined,
    )
    .orderBy(desc(items.createdAt), desc(items.id))
    .limit(page.limit + 1)
}
