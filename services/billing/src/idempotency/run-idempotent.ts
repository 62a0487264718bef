// Idempotent writes (the `Idempotency-Key` header). Race-free across replicas,
// with no lock in memory: the key's record is inserted in the same transaction as
// the write it guards, so of N concurrent requests with one key exactly one claims
// it and writes; the others wait on the record's unique key, then replay the
// stored response. Only successful responses are stored: a request that fails
// wrote nothing, so running it again is safe.

import type { ApiError, Db } from '@app/service'
import { errors } from '../errors.js'
import {
  claimKey,
  completeKey,
  findLiveKey,
  type KeyRecord,
  type KeyScope,
} from './idempotency-repository.js'

export interface WriteResult<T> {
  statusCode: number
  body: T
}

export interface IdempotentOutcome<T> extends WriteResult<T> {
  /** True when this is the stored response of an earlier request with the same key. */
  replayed: boolean
}

export interface IdempotentWrite<T> {
  db: Db
  userId: string
  /** The Idempotency-Key header, if the client sent one. */
  key: string | undefined
  /** requestFingerprint() of this request. */
  fingerprint: string
  ttlSeconds: number
  /** Checks that must pass before anything is written (e.g. asking auth about the user). */
  precheck?: () => Promise<void>
  /** The write itself, in the transaction that also records the key. */
  write: (tx: Db) => Promise<WriteResult<T>>
}

export async function runIdempotent<T>(options: IdempotentWrite<T>): Promise<IdempotentOutcome<T>> {
  const { db, key } = options
  if (key === undefined) {
    await options.precheck?.()
    return { ...(await db.transaction((tx) => options.write(tx))), replayed: false }
  }
  const scope: KeyScope = { userId: options.userId, key }
  // A retry of a finished request is answered from the record alone, even when
  // auth is down.
  const existing = await findLiveKey(db, scope, options.ttlSeconds)
  if (existing) return replay<T>(existing, scope, options.fingerprint)

  await options.precheck?.()
  return db.transaction(async (tx) => {
    if (!(await claimKey(tx, scope, options.fingerprint, options.ttlSeconds))) {
      const record = await findLiveKey(tx, scope, options.ttlSeconds)
      if (!record) throw keyBusy(key)
      return replay<T>(record, scope, options.fingerprint)
    }
    const result = await options.write(tx)
    await completeKey(tx, scope, result)
    return { ...result, replayed: false }
  })
}

function replay<T>(record: KeyRecord, scope: KeyScope, fingerprint: string): IdempotentOutcome<T> {
  if (record.requestHash !== fingerprint) {
    throw errors.error(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key "${scope.key}" was already used for a different request (another method, path or body); send a new key for a new request`,
      [{ in: 'headers', field: 'idempotency-key', message: 'was already used for a different request' }],
    )
  }
  // Committed records always hold a response (see the schema); this is defensive.
  if (record.statusCode === null) throw keyBusy(scope.key)
  return { statusCode: record.statusCode, body: record.responseBody as T, replayed: true }
}

function keyBusy(key: string): ApiError {
  return errors.error(
    'IDEMPOTENCY_KEY_BUSY',
    `a request with Idempotency-Key "${key}" is being processed; retry shortly`,
  )
}
