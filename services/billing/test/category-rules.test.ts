// A plan category's rules: the portable part is the published `pattern` (checked by
// schema validation), the part that needs Unicode properties runs in code
// (src/schemas/category-rules.ts). Either way a 422 VALIDATION_FAILED naming
// body.category, nothing written; and the pattern never refuses what the code accepts.

import { createSigningKey, type JwksServer, signToken, startJwksServer } from '@app/testkit'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { categoryProblem } from '../src/schemas/category-rules.js'
import { CATEGORY_PATTERN } from '../src/schemas/subscriptions.js'
import { PLANS_WRITE } from '../src/scopes.js'
import { bearer, buildTestApp, countRows, type TestApp } from './helper.js'

let t: TestApp
let token: string
let keys: JwksServer
beforeAll(async () => {
  const key = await createSigningKey()
  keys = await startJwksServer([key])
  t = await buildTestApp({ AUTH_URL: keys.url })
  // Creating plans takes the admins' scope.
  token = await signToken(key, { scope: PLANS_WRITE })
})
afterAll(() => keys.close())

const createPlan = (category: string, more: { currency?: string; headers?: Record<string, string> } = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/billing/subscriptions',
    headers: { ...bearer(token), ...more.headers },
    payload: { category, priceMinor: 100, currency: more.currency ?? 'EUR' },
  })

const ACCEPTED = [
  'premium',
  "Prémium ✓ 🚀 ' OR 1=1; --",
  // Emoji sequences hold ZERO WIDTH JOINER (a format character, not a control one).
  '👩‍👩‍👧‍👦',
  '𝕳𝖊𝖑𝖑𝖔',
  // A subdivision flag: TAG characters (format characters) inside an RGI emoji.
  '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} scotland',
  '😀'.repeat(64),
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
    // Invisible format characters (Cf), outside emoji sequences:
    [
      'a zero-width space (a second "premium")',
      'premium\u200b',
      'must not contain invisible format characters',
    ],
    ['a right-to-left override', 'gold\u202egpj.exe', 'must not contain invisible format characters'],
    ['a byte order mark inside', 'go\ufeffld', 'must not contain invisible format characters'],
    ['a zero width joiner between letters', 'go\u200dld', 'must not contain invisible format characters'],
    ['a soft hyphen', 'go\u00adld', 'must not contain invisible format characters'],
    ['a word joiner', 'gold\u2060', 'must not contain invisible format characters'],
    // 64 code points that NFC makes 128 (U+0958 is U+0915 U+093C).
    ['over 64 characters once in NFC', '\u0958'.repeat(64), 'must NOT have more than 64 characters'],
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

describe('stored in Unicode NFC', () => {
  test('a category is stored composed, whichever way it was typed', async () => {
    const res = await createPlan('Cafe\u0301 cre\u0300me')
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().category).toBe('Caf\u00e9 cr\u00e8me')
    const { rows } = await t.app.db.execute<{ category: string }>(
      sql`SELECT category FROM billing.subscriptions WHERE id = ${res.json().id}`,
    )
    expect(rows[0]?.category).toBe('Caf\u00e9 cr\u00e8me')
  })

  test('the two spellings are one request for Idempotency-Key: the retry replays the plan', async () => {
    const headers = { 'idempotency-key': `nfc-${Date.now()}` }
    const first = await createPlan('Cre\u0300me', { headers })
    const again = await createPlan('Cr\u00e8me', { headers })
    expect(first.statusCode, first.body).toBe(201)
    expect({ status: again.statusCode, id: again.json().id }).toEqual({ status: 201, id: first.json().id })
  })
})

describe('currency: a code ISO 4217 lists', () => {
  test.each(['EUR', 'USD', 'JPY', 'CHF'])('%s is accepted', async (currency) => {
    const res = await createPlan('priced', { currency })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().currency).toBe(currency)
  })

  test.each(['ABC', 'QQQ', 'XYZ', 'EUX'])(
    '%s: 422 naming body.currency, nothing written',
    async (currency) => {
      const before = await countRows(t.app, 'subscriptions')
      const res = await createPlan('priced', { currency })
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(/^body\.currency must be an ISO 4217 currency code/),
        details: [expect.objectContaining({ in: 'body', field: 'currency' })],
      })
      expect(await countRows(t.app, 'subscriptions')).toBe(before)
    },
  )
})
