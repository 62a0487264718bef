// Newest-first keyset pagination over (created_at, id), matching the
// (…, created_at, id) indexes: a page after a cursor starts strictly below it.
import { type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'

export interface After {
  createdAt: Date
  id: string
}

export function belowCursor(createdAt: PgColumn, id: PgColumn, after: After): SQL {
  return sql`(${createdAt}, ${id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)`
}
