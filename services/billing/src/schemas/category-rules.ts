// A plan's rules in full. They need Unicode properties and ISO 4217's list, which no
// published `pattern` can carry portably (Python's re and several client generators
// reject \p{...}), so the contract publishes the portable part and the route runs this
// after schema validation, answering as schema validation does: 422 naming the field.
import { kitErrors } from '@app/service'
import type { CreateSubscriptionBody } from './subscriptions.js'

// Cc is U+0000-U+001F and U+007F-U+009F (Postgres refuses NUL in text).
const CONTROL = /\p{Cc}/u
// JSON can carry "\ud800", UTF-8 cannot: Postgres would store U+FFFD, not what was sent.
const UNPAIRED_SURROGATE = /\p{Cs}/u
const SURROUNDING_WHITESPACE = /^\s|\s$/u
// Format characters (Cf) are invisible: zero-width spaces and joiners make "premium\u200b"
// a second "premium", bidi controls (U+202E) show text reversed. Emoji sequences hold
// some (ZERO WIDTH JOINER in 👩‍👩‍👧‍👦, tag characters in subdivision flags): whole
// RGI emoji are set aside first.
const FORMAT = /\p{Cf}/u
// biome-ignore lint/complexity/useRegexLiterals: TypeScript refuses the v flag below an ES2024 target; Node 20 runs it
const EMOJI = new RegExp('\\p{RGI_Emoji}', 'gv')
const MAX_LENGTH = 64

/** ISO 4217 codes as the runtime's ICU knows them (historic codes included, test codes such as XXX not). */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'))

/** What is wrong with a category (as a validation message), or undefined. */
export function categoryProblem(category: string): string | undefined {
  if (CONTROL.test(category)) return 'must not contain control characters'
  if (UNPAIRED_SURROGATE.test(category)) return 'must not contain unpaired surrogates'
  if (SURROUNDING_WHITESPACE.test(category)) return 'must not start or end with whitespace'
  if (FORMAT.test(category.replace(EMOJI, ''))) {
    return 'must not contain invisible format characters (zero-width or bidirectional controls, U+200B, U+202E...)'
  }
  // NFC can lengthen a string (U+0958 becomes two code points): the limit (in code
  // points, as the schema and varchar(64) count) holds for what is stored.
  if ([...category.normalize('NFC')].length > MAX_LENGTH) {
    return `must NOT have more than ${MAX_LENGTH} characters once in Unicode NFC`
  }
  return undefined
}

/** Throws 422 VALIDATION_FAILED naming `body.category` when the category breaks a rule. */
export function checkCategory(category: string): void {
  const problem = categoryProblem(category)
  if (problem) {
    throw kitErrors.error('VALIDATION_FAILED', `body.category ${problem}`, [
      { in: 'body', field: 'category', message: problem },
    ])
  }
}

/** Throws 422 VALIDATION_FAILED naming `body.currency` for a code ISO 4217 does not list. */
export function checkCurrency(currency: string): void {
  if (!CURRENCIES.has(currency)) {
    const problem = 'must be an ISO 4217 currency code (e.g. EUR, USD, JPY)'
    throw kitErrors.error('VALIDATION_FAILED', `body.currency ${problem}`, [
      { in: 'body', field: 'currency', message: problem },
    ])
  }
}

/**
 * A new plan as it is stored: checked against the rules above, its category in NFC, so
 * "é" typed as one code point or as e + U+0301 is one category (stored, compared and
 * fingerprinted for Idempotency-Key alike).
 */
export function checkedPlan<T extends Pick<CreateSubscriptionBody, 'category' | 'currency'>>(body: T): T {
  checkCategory(body.category)
  checkCurrency(body.currency)
  return { ...body, category: body.category.normalize('NFC') }
}
