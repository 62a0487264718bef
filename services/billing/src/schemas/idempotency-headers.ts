// billing's Idempotency-Key header, shared by its POST routes.
import { Type } from 'typebox'

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      // Visible ASCII, as header values travel safely everywhere.
      pattern: '^[\\x21-\\x7E]+$',
      description:
        'Makes a retry safe: a request repeated with the same key (per user) and the same body within the retention period (24 hours unless configured otherwise) is not executed again; the first response is returned, with `Idempotent-Replayed: true`. The same key with a different request gives 422 IDEMPOTENCY_KEY_REUSED. A random UUID per logical request is a good key (e.g. `4f1c2d9e-7b3a-4e8f-a6d5-0c9b8e7f6a5d`).',
      // No `examples`: Swagger UI's Try it out would prefill every POST with that one
      // key, and the page's second POST would be 422 IDEMPOTENCY_KEY_REUSED.
    }),
  ),
})
