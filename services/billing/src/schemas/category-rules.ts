// A plan category's rules in full. They need Unicode properties, which no published
// `pattern` can carry portably (Python's re and several client generators reject
// \p{...}), so the contract publishes the portable part and the route runs this after
// schema validation, answering as schema validation does: 422 naming the field.
import { kitErrors } from '@app/service'

// Cc is U+0000-U+001F and U+007F-U+009F (Postgres refuses NUL in text).
const CONTROL = /\p{Cc}/u
// JSON can carry "\ud800", UTF-8 cannot: Postgres would store U+FFFD, not what was sent.
const UNPAIRED_SURROGATE = /\p{Cs}/u
const SURROUNDING_WHITESPACE = /^\s|\s$/u

/** What is wrong with a category (as a validation message), or undefined. */
export function categoryProblem(category: string): string | undefined {
  if (CONTROL.test(category)) return 'must not contain control characters'
  if (UNPAIRED_SURROGATE.test(category)) return 'must not contain unpaired surrogates'
  if (SURROUNDING_WHITESPACE.test(category)) return 'must not start or end with whitespace'
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
