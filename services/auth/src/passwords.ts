// Password hashing: argon2id with OWASP's minimum parameters (m=19456 KiB, t=2,
// p=1; https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html).
// Login checks an unknown user's password against a dummy hash made with the same
// parameters, so "no such user" costs the same time as "wrong password".
//
// Every hash (registration) and verification (login) goes through one queue with a
// fixed concurrency and a bounded wait. argon2 runs on libuv's thread pool (4 threads
// unless UV_THREADPOOL_SIZE says otherwise), which DNS lookups, file reads and crypto
// share: unbounded, ~100 registrations a second fill it (19 MiB and ~12 ms each) and
// everything else queues behind them. Past the wait bound the request is refused at
// once (503 BUSY, Retry-After) rather than queued for seconds.
import { randomBytes } from 'node:crypto'
import { type Algorithm, hash, verify } from '@node-rs/argon2'
import pLimit from 'p-limit'
import { errors } from './errors.js'

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

/** How much argon2 work runs at once, and how much may wait for it. */
export interface PasswordWorkLimits {
  /** Hashes and verifications running at once (each holds one libuv thread). */
  concurrency: number
  /** How many more may wait for a slot; beyond, 503 BUSY. */
  maxWaiting: number
}

/** Counts since start, for /metrics. */
export interface PasswordWorkCounts {
  active: number
  waiting: number
  started: { hash: number; verify: number }
  rejected: number
}

const UNBOUNDED: PasswordWorkLimits = { concurrency: Number.POSITIVE_INFINITY, maxWaiting: 0 }

/**
 * A place in the queue, taken before the request does anything else (a login's backoff
 * charge, say), so that a request refused BUSY has done nothing. Used once: `hash` or
 * `verify` runs the work in turn, `release` gives the place back unused. Releasing after
 * use is a no-op, so `finally { ticket.release() }` is always safe.
 */
export interface PasswordTicket {
  hash(password: string): Promise<string>
  /** Checks `password` against `passwordHash`, or against the dummy hash when there is no user. */
  verify(passwordHash: string | null, password: string): Promise<boolean>
  release(): void
}

export function createPasswords(limits: PasswordWorkLimits = UNBOUNDED) {
  const limit = pLimit(limits.concurrency)
  const counts = { started: { hash: 0, verify: 0 }, rejected: 0 }
  /** Places taken by tickets whose work has not been queued yet. */
  let reserved = 0

  // Made once, lazily, and shared: a random password nobody knows.
  let dummyHash: Promise<string> | undefined
  const dummy = () => {
    dummyHash ??= hashPassword(randomBytes(32).toString('base64url'))
    return dummyHash
  }

  // Checked and taken in one synchronous step (p-limit counts as it queues), so two
  // requests cannot both take the last place.
  function admit(): PasswordTicket {
    const taken = limit.activeCount + limit.pendingCount + reserved
    if (taken >= limits.concurrency + limits.maxWaiting) {
      counts.rejected += 1
      throw errors.error('BUSY', 'too many password checks in progress; retry after Retry-After seconds')
    }
    reserved += 1
    let open = true
    const take = (operation: 'hash' | 'verify') => {
      if (!open) throw new Error('a password ticket runs one piece of work')
      open = false
      reserved -= 1
      counts.started[operation] += 1
    }
    return {
      hash(password) {
        take('hash')
        return limit(() => hashPassword(password))
      },
      verify(passwordHash, password) {
        take('verify')
        return limit(async () => {
          const matches = await verify(passwordHash ?? (await dummy()), password).catch(() => false)
          return passwordHash !== null && matches
        })
      },
      release() {
        if (!open) return
        open = false
        reserved -= 1
      },
    }
  }

  return {
    /** A place in the queue for one hash or verification; throws BUSY when it is full. */
    admit,
    /** The argon2id hash of `password`; rejects with BUSY when the queue is full. */
    async hash(password: string): Promise<string> {
      return admit().hash(password)
    },
    /** As a ticket's verify; rejects with BUSY when the queue is full. */
    async verify(passwordHash: string | null, password: string): Promise<boolean> {
      return admit().verify(passwordHash, password)
    },
    /** Compute the dummy hash ahead of the first login (outside the queue: once, at start). */
    warmUp(): Promise<unknown> {
      return dummy()
    },
    counts(): PasswordWorkCounts {
      return {
        active: limit.activeCount,
        waiting: limit.pendingCount + reserved,
        started: { ...counts.started },
        rejected: counts.rejected,
      }
    },
  }
}

export type Passwords = ReturnType<typeof createPasswords>

/** Unbounded: measures argon2 alone (bench/). The service always sets limits. */
export const createPasswordVerifier = (): Passwords => createPasswords()
