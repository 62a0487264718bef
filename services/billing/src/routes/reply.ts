import { callerOf, type Db } from '@app/service'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { requestFingerprint } from '../idempotency/fingerprint.js'
import { type IdempotentOutcome, runIdempotent, type WriteResult } from '../idempotency/run-idempotent.js'

/** Sends a write's outcome; a replay is marked so clients can tell (as Stripe does). */
export function sendOutcome<T>(reply: FastifyReply, outcome: IdempotentOutcome<T>) {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true')
  return reply.code(outcome.statusCode).send(outcome.body)
}

export interface KeyedWrite<T> {
  db: Db
  ttlSeconds: number
  /** The body the key's fingerprint covers, when the write uses it normalised; else the body as sent. */
  body?: unknown
  /** Checks that must pass before anything is written (e.g. asking auth about the user). */
  precheck?: () => Promise<void>
  /** The write itself, in the transaction that also records the key. */
  write: (tx: Db) => Promise<WriteResult<T>>
}

/**
 * A route's write under the caller's `Idempotency-Key` (see run-idempotent.ts), answered:
 * the key scoped to the caller, this request's fingerprint, the outcome sent.
 */
export async function answerKeyedWrite<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  write: KeyedWrite<T>,
) {
  const key = request.headers['idempotency-key']
  const outcome = await runIdempotent({
    db: write.db,
    userId: callerOf(request).userId,
    key: typeof key === 'string' ? key : undefined,
    fingerprint: requestFingerprint(request.method, request.url, write.body ?? request.body),
    ttlSeconds: write.ttlSeconds,
    precheck: write.precheck,
    write: write.write,
  })
  return sendOutcome(reply, outcome)
}
