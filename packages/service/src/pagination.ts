// Keyset pagination shared by the list routes: `limit` plus an opaque `cursor`
// that encodes the last row's sort key. Stable under concurrent inserts, unlike
// offsets, and cheap on large tables.
import { type Static, type TSchema, Type } from 'typebox'
import { kitErrors } from './error-codes.js'
import { Nullable } from './schemas.js'
import { isUuid } from './uuid.js'

// `limit` is optional to callers (OpenAPI must not mark it required, or generated
// clients demand it) while handlers always get one: validation fills in the default.
export const PageQuery = Type.Unsafe<{ limit: number; cursor?: string }>(
  Type.Object(
    {
      limit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1–100)' }),
      ),
      cursor: Type.Optional(
        Type.String({ minLength: 1, maxLength: 200, description: 'The `nextCursor` of the previous page' }),
      ),
    },
    { additionalProperties: false },
  ),
)
export type PageQuery = Static<typeof PageQuery>

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String(), {
      description: 'Pass as `cursor` for the next page; null on the last page',
    }),
  })
}

/** The sort key of the last item of a page: its creation time and id. */
export interface Cursor {
  createdAt: Date
  id: string
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url')
}

/**
 * The keyset position an opaque `cursor` encodes, or undefined without one. Checks
 * the values fit the columns (a UUID, a timestamp PostgreSQL stores), so a forged
 * cursor is a 422 naming the field, never a database error.
 */
export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (cursor === undefined) return undefined
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ]
    const date = typeof createdAt === 'string' ? new Date(createdAt) : undefined
    const year = date?.getUTCFullYear() ?? Number.NaN
    if (date && year >= 1 && year <= 9999 && isUuid(id)) return { createdAt: date, id }
  } catch {}
  throw kitErrors.error('VALIDATION_FAILED', 'querystring.cursor is not a cursor this API returned', [
    { in: 'querystring', field: 'cursor', message: 'is not a cursor this API returned' },
  ])
}

/** Fetch `limit + 1` rows, then call this: it trims the extra row and builds the cursor. */
export function toPage<T extends Cursor>(rows: T[], limit: number) {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null }
}
