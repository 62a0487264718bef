// Password hashing: argon2id with OWASP's minimum parameters (m=19456 KiB, t=2,
// p=1; https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html).
// Login checks an unknown user's password against a dummy hash made with the same
// parameters, so "no such user" costs the same time as "wrong password".
import { randomBytes } from 'node:crypto'
import { type Algorithm, hash, verify } from '@node-rs/argon2'

// Algorithm is a `const enum`, which isolatedModules code cannot read; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm

export const ARGON2_OPTIONS = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS)
}

export function createPasswordVerifier() {
  // Made once, lazily, and shared: a random password nobody knows.
  let dummyHash: Promise<string> | undefined
  const dummy = () => {
    dummyHash ??= hashPassword(randomBytes(32).toString('base64url'))
    return dummyHash
  }
  return {
    /** Checks `password` against `passwordHash`, or against the dummy hash when there is no user. */
    async verify(passwordHash: string | null, password: string): Promise<boolean> {
      const matches = await verify(passwordHash ?? (await dummy()), password).catch(() => false)
      return passwordHash !== null && matches
    },
    /** Compute the dummy hash ahead of the first login. */
    warmUp(): Promise<unknown> {
      return dummy()
    },
  }
}

export type PasswordVerifier = ReturnType<typeof createPasswordVerifier>
