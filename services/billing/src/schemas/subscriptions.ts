// Contracts of the plans (/billing/subscriptions).

import { Nullable, Timestamp, Uuid } from '@app/service'
import { type Static, Type } from 'typebox'
import { MAX_PRICE_MINOR } from '../db/schema.js'

// The part of a category's rules every regex engine reads alike (\xHH escapes, no
// \p{...}: Python's re and several client generators reject Unicode properties): no
// control characters (U+0000-U+001F, U+007F-U+009F; Postgres refuses NUL in text), no
// space or control character first or last. The rest needs Unicode properties and is
// checked in code after this schema (category-rules.ts): no unpaired surrogates, no
// other whitespace first or last, no invisible format characters (Cf) outside emoji;
// then the category is stored in NFC.
export const CATEGORY_PATTERN =
  '^[^\\x00-\\x20\\x7F-\\x9F](?:[^\\x00-\\x1F\\x7F-\\x9F]*[^\\x00-\\x20\\x7F-\\x9F])?$'

export const Category = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: CATEGORY_PATTERN,
  description:
    'What the plan is: 1–64 characters, no control characters or unpaired surrogates, no invisible format characters (zero-width, bidirectional controls such as U+202E; emoji sequences may hold theirs), no leading or trailing whitespace. Stored in Unicode NFC. `pattern` holds the part any regex engine can check; the service checks the whole rule (422 VALIDATION_FAILED naming `body.category`).',
  examples: ['premium'],
})

export const PriceMinor = Type.Integer({
  minimum: 0,
  maximum: MAX_PRICE_MINOR,
  description: `Price in minor units of the currency (cents for EUR, yen for JPY): an integer from 0 to ${MAX_PRICE_MINOR}`,
  examples: [999],
})

export const Currency = Type.String({
  pattern: '^[A-Z]{3}$',
  description:
    'ISO 4217 alphabetic currency code, upper case, one the standard lists (anything else: 422 VALIDATION_FAILED naming `body.currency`)',
  examples: ['EUR'],
})

export const CreateSubscriptionBody = Type.Object(
  { category: Category, priceMinor: PriceMinor, currency: Currency },
  {
    additionalProperties: false,
    title: 'CreateSubscription',
    examples: [{ category: 'premium', priceMinor: 999, currency: 'EUR' }],
  },
)
export type CreateSubscriptionBody = Static<typeof CreateSubscriptionBody>

export const Subscription = Type.Object(
  {
    id: Uuid(),
    category: Category,
    priceMinor: PriceMinor,
    currency: Currency,
    retiredAt: Nullable(Timestamp, {
      description:
        'When the plan was retired (no longer listed, no new subscribers; existing subscriptions go on), or null while it is offered',
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    title: 'Subscription',
    description: 'A plan users can subscribe to',
    examples: [
      {
        id: '0b8f6d5e-3c1a-4f7e-9d2b-6a4c8e1f2a3b',
        category: 'premium',
        priceMinor: 999,
        currency: 'EUR',
        retiredAt: null,
        createdAt: '2026-11-22T08:00:00.000Z',
        updatedAt: '2026-11-22T08:00:00.000Z',
      },
    ],
  },
)
export type Subscription = Static<typeof Subscription>
