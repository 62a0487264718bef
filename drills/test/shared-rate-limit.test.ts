// The login rate limit holds across replicas: 4 auth replicas behind HAProxy (round
// robin, TRUST_PROXY=1 so each sees the client's address in X-Forwarded-For), a limit
// of 10 per window, and 50 wrong-password logins from one client, all at once.
// Exactly 10 are answered 401 and the other 40 429, although every replica answered
// some: with a limit per process it would be 40 answers of 401.
import { freePort } from '@app/db/embedded'
import { afterAll, expect, test } from 'vitest'
import { saveFigures } from './support/figures.js'
import { startHaproxy } from './support/haproxy.js'
import { form, send } from './support/http.js'
import { killLeftovers, startService, waitUntilReady } from './support/service-process.js'
import { authOptions, register } from './support/stack.js'
import { newSigningKey } from './support/tokens.js'
import { POOLER_ENV, pooledDatabase } from './support/topology.js'

const REPLICAS = 4
const LIMIT = 10
const ATTEMPTS = 50

afterAll(async () => {
  await killLeftovers()
  saveFigures(import.meta.filename)
})

test(`${ATTEMPTS} wrong-password logins from one client over ${REPLICAS} replicas: exactly ${LIMIT} answered 401, the rest 429`, async () => {
  const pooled = await pooledDatabase('shared_limit')
  const key = await newSigningKey()
  const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()))
  const replicas = await Promise.all(
    ports.map((port) =>
      startService({
        ...authOptions(pooled.database.url, key, {
          port,
          env: {
            ...POOLER_ENV,
            AUTH_TOKEN_RATE_LIMIT_MAX: String(LIMIT),
            AUTH_TOKEN_RATE_LIMIT_WINDOW_SECONDS: '600',
            // One username's failures would start its backoff (429 LOGIN_BACKOFF) after 5:
            // kept out of the way, this drill counts the per-address limit alone.
            AUTH_LOGIN_BACKOFF_AFTER_FAILURES: '1000',
            TRUST_PROXY: '1',
          },
        }),
        ...pooled.connections('auth'),
      }),
    ),
  )
  await Promise.all(replicas.map((replica) => waitUntilReady(replica)))
  const haproxy = await startHaproxy({
    frontends: [{ name: 'auth', servers: ports.map((port, index) => ({ name: `auth${index}`, port })) }],
  })
  const victim = await register(replicas[0]!)

  const answers = await Promise.all(
    Array.from({ length: ATTEMPTS }, () =>
      send(haproxy.url('auth'), {
        method: 'POST',
        path: '/auth/token',
        ...form({ username: victim.username, password: 'not-the-password' }),
      }),
    ),
  )
  const statuses: Record<number, number> = {}
  for (const answer of answers) statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
  console.log(`${ATTEMPTS} logins over ${REPLICAS} replicas: ${JSON.stringify(statuses)}`)
  expect(statuses).toEqual({ 401: LIMIT, 429: ATTEMPTS - LIMIT })
  // The balancer spread them: every replica answered some, so the count was shared.
  const answeredBy = replicas.map(
    (replica) =>
      replica.logEntries().filter((entry) => entry.msg === 'request' && entry.url === '/auth/token').length,
  )
  expect(
    answeredBy.every((n) => n > 0),
    JSON.stringify(answeredBy),
  ).toBe(true)
  // Even the right password is refused now, from any replica.
  const right = await send(haproxy.url('auth'), {
    method: 'POST',
    path: '/auth/token',
    ...form({ username: victim.username, password: victim.password }),
  })
  expect(right.status).toBe(429)
  await haproxy.stop()
  await pooled.pgbouncer.stop()
})
