// Hostile input on every route of both services, as real processes: requests
// generated from each route's own schema in /openapi.json (fast-check), then the
// classics by hand: malformed JSON, the wrong content type, huge bodies, unicode
// edge cases (NUL bytes), and SQL-injection-looking text, which must be stored
// verbatim. Never a 5xx, never a stack trace or an internal path.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { migratedDatabase, query } from './support/databases.js'
import { countRows, saveFigures } from './support/figures.js'
import { bearer, type DrillRequest, json, rawRequest, send, sendRaw } from './support/http.js'
import {
  describeRequest,
  type FuzzContext,
  requestsFor,
  routesOf,
  SQL_INJECTION,
  UNICODE_EDGES,
  UUID_SPELLINGS,
} from './support/openapi-fuzz.js'
import { responseProblems } from './support/safe-response.js'
import { killLeftovers, type ServiceProcess } from './support/service-process.js'
import { login, register, registerAdmin, startAuth, startBilling, type User } from './support/stack.js'
import { newSigningKey } from './support/tokens.js'

const RUNS_PER_ROUTE = 40

let adminUrl: string
let auth: ServiceProcess
let billing: ServiceProcess
let user: User
let token: string
/** Ids that exist, so generated ids sometimes hit real rows: the user, a plan, a subscription. */
const knownIds: string[] = []
/** Ids of rows the services acknowledged creating, by table, to reconcile with the database. */
const acknowledged: Record<string, Set<string>> = {
  'auth.users': new Set(),
  'billing.subscriptions': new Set(),
  'billing.user_subscriptions': new Set(),
}
const CREATES: Record<string, string> = {
  '/auth/users': 'auth.users',
  '/billing/subscriptions': 'billing.subscriptions',
  '/billing/user-subscriptions': 'billing.user_subscriptions',
}

beforeAll(async () => {
  const database = await migratedDatabase('hostile')
  adminUrl = database.url
  auth = await startAuth(adminUrl, await newSigningKey())
  billing = await startBilling(adminUrl, auth.baseUrl)
  // An admin: its token reaches every route, plan writes included (billing:plans:write).
  user = await registerAdmin(auth, adminUrl)
  acknowledged['auth.users']!.add(user.id)
  token = await login(auth, user)
  const plan = await createPlan({ category: 'drill plan', priceMinor: 999, currency: 'EUR' })
  expect(plan.status, plan.text).toBe(201)
  const planId = plan.json<{ id: string }>().id
  const subscription = await send(billing.baseUrl, {
    method: 'POST',
    path: '/billing/user-subscriptions',
    headers: { ...bearer(token), ...json({}).headers },
    body: JSON.stringify({ subscriptionId: planId }),
  })
  expect(subscription.status, subscription.text).toBe(201)
  const subscriptionId = subscription.json<{ id: string }>().id
  acknowledged['billing.user_subscriptions']!.add(subscriptionId)
  knownIds.push(user.id, planId, subscriptionId)
})

/** POST /billing/subscriptions as the drill's user (an admin), checked like every other response. */
async function createPlan(body: unknown, headers: Record<string, string> = {}) {
  const response = await sendChecked(billing, {
    method: 'POST',
    path: '/billing/subscriptions',
    headers: { ...bearer(token), ...json({}).headers, ...headers },
    body: JSON.stringify(body),
  })
  if (response.status === 201) acknowledged['billing.subscriptions']!.add(response.json<{ id: string }>().id)
  return response
}

afterAll(async () => {
  await killLeftovers()
  saveFigures(import.meta.filename)
})

async function sendChecked(target: ServiceProcess, request: DrillRequest) {
  const response = await send(target.baseUrl, { ...request, hostile: true })
  const problems = responseProblems(response, describeRequest(request))
  if (problems.length > 0) {
    throw new Error(
      shorten(
        `${problems.join('; ')}\nrequest:\n${describeRequest(request)}\nresponse ${response.status}: ${response.text}`,
      ),
    )
  }
  return response
}

function shorten(text: string): string {
  return text.replace(/(.{300})[^\n]{200,}/g, '$1…')
}

/** Remembers rows a generated request happened to create, for the reconciliation. */
function noteCreated(request: DrillRequest, status: number, text: string) {
  const table = CREATES[request.path]
  if (request.method === 'POST' && table && status === 201) {
    acknowledged[table]!.add((JSON.parse(text) as { id: string }).id)
  }
}

interface RouteOutcomes {
  /** How many answers of each status. */
  statuses: Map<number, number>
  /** Every `status code` answered, e.g. `422 UNKNOWN_SUBSCRIPTION`. */
  codes: Set<string>
}

/** Fuzzes every route of the service's OpenAPI document; returns what each route answered. */
async function fuzzService(target: ServiceProcess, context: () => FuzzContext) {
  const document = (await send(target.baseUrl, { method: 'GET', path: '/openapi.json' })).json()
  const routes = routesOf(document as Parameters<typeof routesOf>[0])
  const outcomes = new Map<string, RouteOutcomes>()
  for (const route of routes) {
    const seen: RouteOutcomes = { statuses: new Map(), codes: new Set() }
    outcomes.set(`${route.method} ${route.path}`, seen)
    try {
      await fc.assert(
        fc.asyncProperty(requestsFor(route, context()), async (request) => {
          const response = await sendChecked(target, request)
          seen.statuses.set(response.status, (seen.statuses.get(response.status) ?? 0) + 1)
          const code =
            response.status >= 400 && response.text.startsWith('{') ? response.json().code : undefined
          seen.codes.add(code ? `${response.status} ${code}` : String(response.status))
          noteCreated(request, response.status, response.text)
        }),
        { numRuns: RUNS_PER_ROUTE },
      )
    } catch (error) {
      // fast-check prints the whole counterexample; a 30 kB URL would bury the reason.
      throw new Error(`${route.method} ${route.path}: ${shorten((error as Error).message)}`)
    }
  }
  console.log(
    `${target.name}: generated requests by route and status\n${[...outcomes]
      .map(
        ([route, seen]) =>
          `  ${route.padEnd(46)} ${[...seen.statuses]
            .sort(([a], [b]) => a - b)
            .map(([s, n]) => `${s}x${n}`)
            .join(' ')}`,
      )
      .join('\n')}`,
  )
  return outcomes
}

/**
 * Routes whose generated requests never got past validation would prove little: each
 * must have answered a 2xx, or one of the `deep` answers given for it (an answer only
 * its handler gives, after the database was asked).
 */
function unreached(outcomes: Map<string, RouteOutcomes>, deep: Record<string, string[]> = {}) {
  return [...outcomes]
    .filter(
      ([route, seen]) =>
        ![...seen.statuses.keys()].some((status) => status < 300) &&
        !(deep[route] ?? []).some((answer) => seen.codes.has(answer)),
    )
    .map(([route]) => route)
}

describe('requests generated from every route schema in /openapi.json', () => {
  test('auth: never a 5xx, never an internal detail', async () => {
    const outcomes = await fuzzService(auth, () => ({ tokens: [token], ids: knownIds }))
    expect([...outcomes.keys()]).toEqual(
      expect.arrayContaining([
        'POST /auth/users',
        'POST /auth/token',
        'GET /auth/users',
        'GET /auth/users/{id}',
        'GET /auth/users/me',
      ]),
    )
    // Random credentials never log in; INVALID_CREDENTIALS means the form got through to the check.
    expect(
      unreached(outcomes, {
        'POST /auth/token': ['401 INVALID_CREDENTIALS'],
        'GET /auth/users/{id}': ['404 USER_NOT_FOUND'],
      }),
    ).toEqual([])
    // Nothing failed inside either: no error was logged, and the service still serves.
    expect(auth.logEntries().filter((entry) => entry.level >= 50)).toEqual([])
    expect((await send(auth.baseUrl, { method: 'GET', path: '/readyz' })).status).toBe(200)
  })

  test('billing: never a 5xx, never an internal detail', async () => {
    const outcomes = await fuzzService(billing, () => ({ tokens: [token], ids: knownIds }))
    expect([...outcomes.keys()]).toEqual(
      expect.arrayContaining([
        'POST /billing/subscriptions',
        'GET /billing/subscriptions',
        'GET /billing/subscriptions/{id}',
        'POST /billing/subscriptions/{id}/retire',
        'POST /billing/user-subscriptions',
        'GET /billing/user-subscriptions',
        'GET /billing/user-subscriptions/{id}',
        'POST /billing/user-subscriptions/{id}/cancel',
      ]),
    )
    // Valid requests for a plan that does not exist, or one already subscribed to,
    // still went through the handler and the database.
    expect(
      unreached(outcomes, {
        'POST /billing/user-subscriptions': [
          '409 ALREADY_SUBSCRIBED',
          '409 PLAN_RETIRED',
          '422 UNKNOWN_SUBSCRIPTION',
        ],
        'GET /billing/subscriptions/{id}': ['404 SUBSCRIPTION_NOT_FOUND'],
        'POST /billing/subscriptions/{id}/retire': ['404 SUBSCRIPTION_NOT_FOUND'],
        'GET /billing/user-subscriptions/{id}': ['404 USER_SUBSCRIPTION_NOT_FOUND'],
        'POST /billing/user-subscriptions/{id}/cancel': ['404 USER_SUBSCRIPTION_NOT_FOUND'],
      }),
    ).toEqual([])
    expect(billing.logEntries().filter((entry) => entry.level >= 50)).toEqual([])
    expect((await send(billing.baseUrl, { method: 'GET', path: '/readyz' })).status).toBe(200)
  })
})

/** Each service's JSON write route, with what it needs to get past authentication. */
function writeRoute(name: 'auth' | 'billing') {
  return name === 'auth'
    ? { target: auth, path: '/auth/users', headers: {} as Record<string, string> }
    : { target: billing, path: '/billing/subscriptions', headers: bearer(token) }
}

describe.each(['auth', 'billing'] as const)('malformed requests to %s', (name) => {
  const malformedJson = [
    '{',
    '{"category":',
    '{"category": "x",}',
    "{'category': 'x'}",
    'nul',
    '[1, 2',
    '{"a": 1}}',
    '{"a": "\\u12"}',
    '\u0000',
  ]

  test.each(malformedJson)('malformed JSON %j is 400 MALFORMED_JSON', async (body) => {
    const { target, path, headers } = writeRoute(name)
    const response = await sendChecked(target, {
      method: 'POST',
      path,
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    })
    expect(response.status).toBe(400)
    expect(response.json().code).toBe('MALFORMED_JSON')
  })

  test.each([
    ['text/plain', 'hello'],
    ['application/xml', '<plan><category>x</category></plan>'],
    [
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="category"\r\n\r\nx\r\n--x--',
    ],
    ['application/x-www-form-urlencoded', 'category=x&priceMinor=1&currency=EUR'],
    ['application/octet-stream', '\u0000\u0001'],
  ])('a body of content type %s is 415', async (contentType, body) => {
    const { target, path, headers } = writeRoute(name)
    const response = await sendChecked(target, {
      method: 'POST',
      path,
      headers: { ...headers, 'content-type': contentType },
      body,
    })
    expect(response.status).toBe(415)
    expect(response.json().code).toBe('UNSUPPORTED_MEDIA_TYPE')
  })

  test('a body over the limit is 413, whether announced, chunked or lied about', async () => {
    const { target, path, headers } = writeRoute(name)
    const huge = JSON.stringify({ category: 'x'.repeat(2 * 1024 * 1024), priceMinor: 1, currency: 'EUR' })
    const announced = await sendChecked(target, {
      method: 'POST',
      path,
      headers: { ...headers, 'content-type': 'application/json' },
      body: huge,
    })
    expect(announced.status).toBe(413)
    expect(announced.json().code).toBe('BODY_TOO_LARGE')

    const chunked = await sendRaw(
      target.port,
      Buffer.concat([
        rawRequest({
          method: 'POST',
          path,
          headers: { ...headers, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        }),
        Buffer.from(`${huge.length.toString(16)}\r\n${huge}\r\n0\r\n\r\n`),
      ]),
    )
    expect(chunked.status, chunked.head).toBe(413)
    expect(
      responseProblems({ status: chunked.status, text: chunked.body, headers: chunked.head }, ''),
    ).toEqual([])

    const claimed = await sendRaw(
      target.port,
      rawRequest({
        method: 'POST',
        path,
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{}',
        contentLength: 50 * 1024 * 1024,
      }),
    )
    expect(claimed.status, claimed.head).toBe(413)
  })

  test('huge headers and URLs, and bytes no header may hold, are refused with a 4xx', async () => {
    const { target, path } = writeRoute(name)
    const requests = [
      rawRequest({ method: 'GET', path, headers: { authorization: `Bearer ${'a'.repeat(64 * 1024)}` } }),
      rawRequest({ method: 'GET', path: `${path}/${'a'.repeat(64 * 1024)}` }),
      rawRequest({
        method: 'GET',
        path,
        headers: { 'idempotency-key': 'a\u0000b', 'x-request-id': 'a\u007fb' },
      }),
    ]
    for (const request of requests) {
      const response = await sendRaw(target.port, request)
      expect(response.status).toBeGreaterThanOrEqual(400)
      expect(response.status).toBeLessThan(500)
      expect(
        responseProblems({ status: response.status, text: response.body, headers: response.head }, ''),
      ).toEqual([])
    }
  })
})

describe('unicode edge cases', () => {
  test.each(UNICODE_EDGES.map((edge) => [JSON.stringify(edge), edge]))(
    'every field of POST /auth/users carrying %s: a 4xx, or stored and read back exactly',
    async (_name, edge) => {
      for (const field of ['username', 'email', 'password'] as const) {
        const body = {
          username: `u${Math.random().toString(36).slice(2, 10)}`,
          email: '',
          password: 'a-long-enough-password',
        }
        body.email = `${body.username}@example.com`
        body[field] = field === 'email' ? `${edge}${body.email}` : `${body[field]}${edge}`
        const response = await sendChecked(auth, { method: 'POST', path: '/auth/users', ...json(body) })
        expect([201, 409, 422], response.text).toContain(response.status)
        if (response.status !== 201) continue
        const created = response.json<{ id: string; username: string; email: string }>()
        acknowledged['auth.users']!.add(created.id)
        const [row] = await query<{ username: string; email: string }>(
          adminUrl,
          'SELECT username, email FROM auth.users WHERE id = $1',
          [created.id],
        )
        expect(row).toEqual({ username: body.username, email: body.email })
        // A password is stored as a hash: it was kept exactly if it logs in.
        expect(await login(auth, body)).toEqual(expect.any(String))
      }
    },
  )

  test.each(UNICODE_EDGES.map((edge) => [JSON.stringify(edge), edge]))(
    'a plan category carrying %s, with and without Idempotency-Key: a 4xx, or stored and read back exactly (in NFC)',
    async (_name, edge) => {
      for (const category of [`plan ${edge}`, `${edge}`, `${edge} plan`, `a${edge}b`]) {
        for (const key of [undefined, `unicode-${Math.random().toString(36).slice(2)}`]) {
          const body = { category, priceMinor: 100, currency: 'EUR' }
          const response = await createPlan(body, key ? { 'idempotency-key': key } : {})
          expect([201, 422], response.text).toContain(response.status)
          if (response.status !== 201) continue
          const { id } = response.json<{ id: string }>()
          const read = await sendChecked(billing, { method: 'GET', path: `/billing/subscriptions/${id}` })
          expect(read.json().category).toBe(category.normalize('NFC'))
          const [row] = await query<{ category: string }>(
            adminUrl,
            'SELECT category FROM billing.subscriptions WHERE id = $1',
            [id],
          )
          expect(row?.category).toBe(category.normalize('NFC'))
          if (key) {
            const replay = await createPlan(body, { 'idempotency-key': key })
            expect({ status: replay.status, id: replay.json().id }).toEqual({ status: 201, id })
          }
        }
      }
    },
  )

  test('a NUL byte anywhere a route reads text is a 4xx, never a 500', async () => {
    const nul = 'a\u0000b'
    const cursor = Buffer.from(
      JSON.stringify(['2024-01-01T00:00:00.000Z\u0000', `${user.id}\u0000`]),
    ).toString('base64url')
    const requests: [ServiceProcess, DrillRequest][] = [
      [
        auth,
        {
          method: 'POST',
          path: '/auth/users',
          ...json({ username: nul, email: 'n@example.com', password: 'password-123' }),
        },
      ],
      [
        auth,
        {
          method: 'POST',
          path: '/auth/users',
          ...json({ username: 'nul_user', email: `n${nul}@example.com`, password: 'password-123' }),
        },
      ],
      [
        auth,
        {
          method: 'POST',
          path: '/auth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `username=${encodeURIComponent(user.username)}%00&password=x%00y`,
        },
      ],
      [auth, { method: 'GET', path: '/auth/users/%00', headers: bearer(token) }],
      [auth, { method: 'GET', path: `/auth/users/${user.id}%00`, headers: bearer(token) }],
      [auth, { method: 'GET', path: '/auth/users?limit=1&cursor=%00', headers: bearer(token) }],
      [auth, { method: 'GET', path: `/auth/users?limit=1&cursor=${cursor}`, headers: bearer(token) }],
      [
        billing,
        {
          method: 'POST',
          path: '/billing/subscriptions',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify({ category: nul, priceMinor: 1, currency: 'EUR' }),
        },
      ],
      [
        billing,
        {
          method: 'POST',
          path: '/billing/subscriptions',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify({ category: 'nul', priceMinor: 1, currency: 'E\u0000R' }),
        },
      ],
      [
        billing,
        {
          method: 'POST',
          path: '/billing/user-subscriptions',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify({ subscriptionId: `${knownIds[1]}\u0000` }),
        },
      ],
      [billing, { method: 'GET', path: '/billing/subscriptions/%00' }],
      [billing, { method: 'GET', path: `/billing/subscriptions/${knownIds[1]}%00` }],
      [billing, { method: 'GET', path: `/billing/subscriptions?limit=1&cursor=${cursor}` }],
      [billing, { method: 'GET', path: '/billing/user-subscriptions?cursor=%00', headers: bearer(token) }],
      [
        billing,
        {
          method: 'POST',
          path: `/billing/user-subscriptions/${knownIds[2]}%00/cancel`,
          headers: bearer(token),
        },
      ],
    ]
    for (const [target, request] of requests) {
      const response = await sendChecked(target, request)
      expect(response.status, describeRequest(request)).toBeGreaterThanOrEqual(400)
    }
  })
})

describe('an id spelled any other way than the canonical UUID', () => {
  /** Every route with an id in its path, and an id that exists there. */
  const idRoutes = () =>
    [
      [auth, 'GET', (id: string) => `/auth/users/${id}`, knownIds[0]!],
      [billing, 'GET', (id: string) => `/billing/subscriptions/${id}`, knownIds[1]!],
      [billing, 'POST', (id: string) => `/billing/subscriptions/${id}/retire`, crypto.randomUUID()],
      [billing, 'GET', (id: string) => `/billing/user-subscriptions/${id}`, knownIds[2]!],
      [billing, 'POST', (id: string) => `/billing/user-subscriptions/${id}/cancel`, crypto.randomUUID()],
    ] as const

  test.each(Object.entries(UUID_SPELLINGS).filter(([name]) => name !== 'upperCase'))(
    '%s: 422 VALIDATION_FAILED naming params.id on every route, never a 5xx',
    async (_name, spell) => {
      for (const [target, method, path, id] of idRoutes()) {
        const request = { method, path: path(encodeURIComponent(spell(id))), headers: bearer(token) }
        const response = await sendChecked(target, request)
        expect(response.status, describeRequest(request)).toBe(422)
        expect(response.json()).toMatchObject({
          code: 'VALIDATION_FAILED',
          message: expect.stringContaining('params.id'),
        })
      }
    },
  )

  test('upper case is the same UUID: answered as the lower-case spelling is', async () => {
    for (const [target, method, path, id] of idRoutes().filter(([, method]) => method === 'GET')) {
      const lower = await sendChecked(target, { method, path: path(id), headers: bearer(token) })
      const upper = await sendChecked(target, {
        method,
        path: path(id.toUpperCase()),
        headers: bearer(token),
      })
      expect(lower.status, path(id)).toBeLessThan(500)
      expect({ status: upper.status, body: upper.json() }).toEqual({
        status: lower.status,
        body: lower.json(),
      })
    }
  })
})

describe('SQL-injection-looking text', () => {
  test('auth: stored verbatim where a field allows it, and logs in verbatim as a password', async () => {
    const emails = ["x'OR'1'='1@example.com", "'--@example.com", "a'||'b@example.com", "admin'#@example.com"]
    for (const [index, email] of emails.entries()) {
      const password = SQL_INJECTION[index % SQL_INJECTION.length]!.padEnd(8, '-')
      const created = await register(auth, { email, password })
      acknowledged['auth.users']!.add(created.id)
      const me = await send(auth.baseUrl, {
        method: 'GET',
        path: '/auth/users/me',
        headers: bearer(await login(auth, created)),
      })
      expect(me.json().email).toBe(email)
      const [row] = await query<{ email: string }>(adminUrl, 'SELECT email FROM auth.users WHERE id = $1', [
        created.id,
      ])
      expect(row?.email).toBe(email)
    }
    for (const password of SQL_INJECTION.filter((p) => p.length >= 8)) {
      const created = await register(auth, { password })
      acknowledged['auth.users']!.add(created.id)
      expect(await login(auth, created)).toEqual(expect.any(String))
    }
  })

  test('billing: plan categories and idempotency keys stored verbatim', async () => {
    for (const [index, category] of SQL_INJECTION.entries()) {
      // Header values are visible ASCII without spaces (the key's pattern).
      const key = `${category.replace(/[^\x21-\x7e]/g, '')}-${index}`
      const body = { category, priceMinor: 100 + index, currency: 'EUR' }
      const created = await createPlan(body, { 'idempotency-key': key })
      expect(created.status, created.text).toBe(201)
      const { id } = created.json<{ id: string }>()
      expect(
        (await sendChecked(billing, { method: 'GET', path: `/billing/subscriptions/${id}` })).json().category,
      ).toBe(category)
      const [row] = await query<{ category: string }>(
        adminUrl,
        'SELECT category FROM billing.subscriptions WHERE id = $1',
        [id],
      )
      expect(row?.category).toBe(category)
      const [stored] = await query<{ key: string }>(
        adminUrl,
        'SELECT key FROM billing.idempotency_keys WHERE user_id = $1 AND key = $2',
        [user.id, key],
      )
      expect(stored?.key).toBe(key)
      // And the key works as a key: the retry replays the same plan.
      const replay = await createPlan(body, { 'idempotency-key': key })
      expect({ status: replay.status, id: replay.json().id }).toEqual({ status: 201, id })
    }
  })

  test('the tables those strings name are all still there', async () => {
    const tables = await query<{ name: string }>(
      adminUrl,
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('auth', 'billing') AND c.relkind = 'r' ORDER BY 1`,
    )
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'auth.users',
        'billing.idempotency_keys',
        'billing.subscriptions',
        'billing.user_subscriptions',
      ]),
    )
  })
})

describe('afterwards', () => {
  test('every row a service acknowledged is in the database: rows lost 0', async () => {
    let written = 0
    let found = 0
    for (const [table, ids] of Object.entries(acknowledged)) {
      const rows = await query(adminUrl, `SELECT id FROM ${table} WHERE id = ANY($1::uuid[])`, [[...ids]])
      written += ids.size
      found += rows.length
    }
    expect(written).toBeGreaterThan(0)
    expect(countRows(written, found)).toBe(0)
  })
})
