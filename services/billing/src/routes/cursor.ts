// Turns the opaque `cursor` of a list request into the keyset position it encodes.
import { ApiError, decodeCursor } from '@app/service'
import type { After } from '../repositories/keyset.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function afterCursor(cursor: string | undefined): After | undefined {
  const decoded = decodeCursor(cursor)
  if (!decoded) return undefined
  // decodeCursor checks the shape; these are the values the columns can hold, so a
  // forged cursor is a 422 rather than a database error.
  const createdAt = new Date(decoded.createdAt)
  const year = createdAt.getUTCFullYear()
  if (typeof decoded.id !== 'string' || !UUID.test(decoded.id) || !(year >= 1 && year <= 9999)) {
    throw new ApiError(422, 'VALIDATION_FAILED', 'querystring.cursor is not a cursor this API returned', [
      { in: 'querystring', field: 'cursor', message: 'is not a cursor this API returned' },
    ])
  }
  return { createdAt, id: decoded.id }
}

export function cursorOf(row: { createdAt: Date; id: string }) {
  return { createdAt: row.createdAt.toISOString(), id: row.id }
}
