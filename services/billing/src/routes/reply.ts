import type { FastifyReply } from 'fastify'
import type { IdempotentOutcome } from '../idempotency/run-idempotent.js'

/** Sends a write's outcome; a replay is marked so clients can tell (as Stripe does). */
export function sendOutcome<T>(reply: FastifyReply, outcome: IdempotentOutcome<T>) {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true')
  return reply.code(outcome.statusCode).send(outcome.body)
}
