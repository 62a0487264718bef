// A plan category's rules: the portable part is the published `pattern` (checked by
// schema validation), the part that needs Unicode properties runs in code
// (src/schemas/category-rules.ts). Either way a 422 VALIDATION_FAILED naming
// body.category, nothing written; and the pattern never refuses what the code accepts.

import { createSigningKey, type JwksServer, signToken, startJwksServer } from '@app/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { categoryProblem } from '../src/schemas/category-rules.js'
import { CATEGORY_PATTERN } from '../src/schemas/subscriptions.js'
import { bearer, buildTestApp, countRows, type TestApp } from './helper.js'

let t: TestApp
let token: string
let keys: JwksServer
beforeAll(async () => {
  const key = await createSigningKey()
  keys = await startJwksServer([key])
  t = await buildTestApp({ AUTH_URL: keys.url })
  token = await signToken(key)
})
afterAll(() => keys.close())

const createPlan = (category: string) =>
  t.app.inject({
    method: 'POST',
    url: '/billing/subscriptions',
    headers: bearer(token),
    payload: { category, priceMinor: 100, currency: 'EUR' },
  })

const ACCEPTED = [
  'premium',
  "Prémium ✓ 🚀 ' OR 1=1; --",
  // Emoji sequences hold ZERO WIDTH JOINER (a format character, not a control one).
  '👩‍👩‍👧‍👦',
  '𝕳𝖊𝖑𝖑𝖔',
  'inner\u00a0no-break space',
  'x',
]

describe('refused with 422 naming body.category, nothing written', () => {
  test.each([
    // By the published pattern (control characters; a space or control first or last):
    ['a NUL character', 'go\u0000ld', 'must match pattern'],
    ['a C1 control character (NEL)', 'go\u0085ld', 'must match pattern'],
    ['DEL', 'gold\u007f', 'must match pattern'],
    ['a leading space', ' gold', 'must match pattern'],
    // In code (Unicode properties):
    ['an unpaired high surrogate', 'go\ud800ld', 'must not contain unpaired surrogates'],
    ['an unpaired low surrogate last', 'gold\udfff', 'must not contain unpaired surrogates'],
    ['a leading no-break space', '\u00a0gold', 'must not start or end with whitespace'],
    ['a trailing ideographic space', 'gold\u3000', 'must not start or end with whitespace'],
    ['a trailing line separator', 'gold\u2028', 'must not start or end with whitespace'],
  ])('%s', async (_name, category, problem) => {
    const before = await countRows(t.app, 'subscriptions')
    const res = await createPlan(category)
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(new RegExp(`^body\\.category ${problem}`)),
      details: [expect.objectContaining({ in: 'body', field: 'category' })],
    })
    expect(await countRows(t.app, 'subscriptions')).toBe(before)
  })
})

test.each(ACCEPTED)('accepted and stored exactly: %j', async (category) => {
  const res = await createPlan(category)
  expect(res.statusCode, res.body).toBe(201)
  expect(res.json().category).toBe(category)
})

test('the published pattern never refuses a category the code accepts', () => {
  const pattern = new RegExp(CATEGORY_PATTERN, 'u')
  const samples = [
    ...ACCEPTED,
    ...Array.from({ length: 0x3100 }, (_, code) => `a${String.fromCharCode(code)}b`),
    ...Array.from({ length: 0x3100 }, (_, code) => String.fromCharCode(code)),
  ]
  const stricter = samples.filter((sample) => categoryProblem(sample) === undefined && !pattern.test(sample))
  expect(stricter).toEqual([])
})
