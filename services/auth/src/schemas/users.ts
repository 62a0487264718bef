// The users API's contracts. A user's email is theirs: it appears only in their
// own record (registration, /me, their own id). Everyone else sees the public
// profile. The password hash has no place in any of these schemas, so the
// serializer could not emit it even if a handler passed it along.

import { Timestamp, Uuid } from '@app/service'
import { Type } from 'typebox'

export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]{3,32}$'

export const Username = Type.String({
  pattern: USERNAME_PATTERN,
  description: '3 to 32 letters, digits, `_`, `.` or `-`; unique (case-sensitive)',
  examples: ['alice'],
})

function Email(description: string) {
  return Type.String({ format: 'email', maxLength: 254, description, examples: ['alice@example.com'] })
}

export const CreateUserBody = Type.Object(
  {
    username: Username,
    email: Email(
      'A contact address, not verified and not unique: one another account uses is accepted like any other',
    ),
    password: Type.String({
      minLength: 8,
      maxLength: 128,
      description: '8 to 128 characters; stored only as an argon2id hash',
      examples: ['correct horse battery staple'],
    }),
  },
  {
    additionalProperties: false,
    examples: [{ username: 'alice', email: 'alice@example.com', password: 'correct horse battery staple' }],
  },
)

export const User = Type.Object(
  {
    id: Uuid(),
    username: Username,
    email: Type.Optional(Email('Present only in your own record')),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    title: 'User',
    examples: [
      {
        id: '0b9c8f4e-3c1a-4f5e-9a57-2f1d6c2b7e10',
        username: 'alice',
        email: 'alice@example.com',
        createdAt: '2026-11-22T08:30:00.000Z',
        updatedAt: '2026-11-22T08:30:00.000Z',
      },
    ],
  },
)
