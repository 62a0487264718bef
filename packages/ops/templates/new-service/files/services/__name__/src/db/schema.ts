// The __name__ schema's tables, all in pgSchema('__name__'): this service migrates and
// rolls back on its own, so nothing here refers to another service's tables. Change
// a table here, then `make add-migration svc=__name__ msg="..."`.
import { index, pgSchema, timestamp, uuid, varchar } from 'drizzle-orm/pg-core'

export const __name__Schema = pgSchema('__name__')

// Millisecond precision, so a timestamp survives the round trip through a JS Date
// (keyset pagination cursors depend on it).
const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3, mode: 'date' })
    .notNull()
    .defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3, mode: 'date' })
    .notNull()
    .defaultNow(),
}

/** The example resource: replace it with the service's own. */
export const items = __name__Schema.table(
  'items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: varchar('name', { length: 200 }).notNull(),
    ...timestamps,
  },
  // The list, newest first, in keyset order.
  (table) => [index('items_created_at_id_idx').on(table.createdAt, table.id)],
)
