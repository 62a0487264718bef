// Contracts of the example resource (/__name__/items).
import { Timestamp, Uuid } from '@app/service'
import { type Static, Type } from 'typebox'

// The portable regex subset (\xHH escapes, no \p{...}): every client generator reads
// it alike. No control characters, no space or control character first or last.
export const ItemName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[^\\x00-\\x20\\x7F](?:[^\\x00-\\x1F\\x7F]*[^\\x00-\\x20\\x7F])?$',
  description: 'What the item is called: 1–200 characters, no control characters, no space first or last',
  examples: ['first item'],
})

export const CreateItemBody = Type.Object(
  { name: ItemName },
  { additionalProperties: false, title: 'CreateItem', examples: [{ name: 'first item' }] },
)
export type CreateItemBody = Static<typeof CreateItemBody>

export const Item = Type.Object(
  { id: Uuid(), name: ItemName, createdAt: Timestamp, updatedAt: Timestamp },
  {
    title: 'Item',
    description: "An item: __name__'s example resource",
    examples: [
      {
        id: '0b8f6d5e-3c1a-4f7e-9d2b-6a4c8e1f2a3b',
        name: 'first item',
        createdAt: '2026-11-22T08:00:00.000Z',
        updatedAt: '2026-11-22T08:00:00.000Z',
      },
    ],
  },
)
export type Item = Static<typeof Item>
