// A registration flood against the real auth process while another client logs in.
// Each registration costs an argon2id hash (19 MiB, ~12 ms of a core), so an
// unlimited flood would fill libuv's thread pool and queue every login behind it.
// Clients are told apart by source address on the loopback (Linux routes all of
// 127.0.0.0/8 to lo): the attacker sends from 127.0.0.2 (then from 50 addresses at
// once), the victim logs in from 127.0.0.1.
//
// 1. One address, 200 registrations at once, default limits: the per-address limit
//    lets AUTH_REGISTER_RATE_LIMIT_MAX of them hash and answers the rest 429 at once;
//    the victim's logins all succeed.
// 2. 200 registrations from 50 addresses at once (each within its own limit): the
//    argon2 queue fills and sheds with 503 BUSY; nothing else fails, every 201 is a
//    user in the database and no BUSY one is, and the victim logs in again afterwards.
// Latencies are printed, not asserted (the machine is shared).
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { migratedDatabase, query } from './support/databases.js'
import { countRows, figures, saveFigures } from './support/figures.js'
import { form, json } from './support/http.js'
import { killLeftovers, type ServiceProcess } from './support/service-process.js'
import { newUser, register, startAuth, type User } from './support/stack.js'
import { newSigningKey } from './support/tokens.js'

const FLOOD = 200
/** auth's default AUTH_REGISTER_RATE_LIMIT_MAX. */
const REGISTER_LIMIT = 10

let adminUrl: string
let auth: ServiceProcess
let victim: User

beforeAll(async () => {
  adminUrl = (await migratedDatabase('registration_flood')).url
  // auth's default registration limit and argon2 queue (the drills lift the limit
  // elsewhere); login's address limit stays lifted, so the victim's repeated logins
  // are never limited.
  auth = await startAuth(adminUrl, await newSigningKey(), {
    env: { LOG_LEVEL: 'warn', AUTH_REGISTER_RATE_LIMIT_MAX: String(REGISTER_LIMIT) },
  })
  victim = await register(auth)
})

afterAll(async () => {
  await killLeftovers()
  saveFigures(import.meta.filename)
})

interface Answer {
  status: number
  code?: string
  retryAfter?: string
  id?: string
  ms: number
}

/** One request from `localAddress` (fetch cannot choose its source address). */
function post(
  localAddress: string,
  path: string,
  request: { headers: Record<string, string>; body: string },
) {
  figures.requests += 1
  const url = new URL(path, auth.baseUrl)
  const started = performance.now()
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
            code?: string
            id?: string
          }
          resolve({
            status: res.statusCode ?? 0,
            code: body.code,
            id: body.id,
            retryAfter: res.headers['retry-after'],
            ms: performance.now() - started,
          })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(request.body)
  })
}

const outcome = (answer: Answer) => `${answer.status}${answer.code ? ` ${answer.code}` : ''}`

function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const answer of answers) counts[outcome(answer)] = (counts[outcome(answer)] ?? 0) + 1
  return counts
}

function percentiles(answers: Answer[]): string {
  const sorted = answers.map((answer) => answer.ms).sort((a, b) => a - b)
  const at = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${Math.round(sorted.at(-1) ?? 0)} ms`
}

/** The victim logs in again and again from 127.0.0.1 until `attack` settles (and at least 20 times). */
async function victimLogsInDuring<T>(attack: Promise<T>): Promise<{ attack: T; logins: Answer[] }> {
  let done = false
  const settled = attack.finally(() => {
    done = true
  })
  const logins: Answer[] = []
  while (!done || logins.length < 20) {
    logins.push(
      await post('127.0.0.1', '/auth/token', form({ username: victim.username, password: victim.password })),
    )
  }
  return { attack: await settled, logins }
}

async function usersCreated(bodies: { username: string }[]): Promise<string[]> {
  const rows = await query<{ username: string }>(
    adminUrl,
    'SELECT username FROM auth.users WHERE username = ANY($1::text[]) ORDER BY username',
    [bodies.map((body) => body.username)],
  )
  return rows.map((row) => row.username)
}

describe(`${FLOOD} registrations at once while another client logs in`, () => {
  test('from one address: the limit answers all but the first few 429 at once, and every login of the other client succeeds', async () => {
    const bodies = Array.from({ length: FLOOD }, () => newUser())
    const started = performance.now()
    const { attack, logins } = await victimLogsInDuring(
      Promise.all(bodies.map((body) => post('127.0.0.2', '/auth/users', json(body)))),
    )
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(
      `one address, ${FLOOD} registrations in ${seconds} s: ${JSON.stringify(tally(attack))}; ${percentiles(attack)}`,
    )
    console.log(
      `the other client's ${logins.length} logins meanwhile: ${JSON.stringify(tally(logins))}; ${percentiles(logins)}`,
    )

    expect(tally(attack)).toEqual({ 201: REGISTER_LIMIT, '429 RATE_LIMITED': FLOOD - REGISTER_LIMIT })
    expect(
      attack.filter((answer) => answer.status === 429).every((answer) => Number(answer.retryAfter) > 0),
    ).toBe(true)
    expect(tally(logins)).toEqual({ 200: logins.length })
    const created = bodies.filter((_, i) => attack[i]!.status === 201)
    expect(countRows(created.length, (await usersCreated(bodies)).length)).toBe(0)
  })

  test('from 50 addresses: the argon2 queue sheds with 503 BUSY, no other 5xx, nothing half-written', async () => {
    const bodies = Array.from({ length: FLOOD }, () => newUser())
    const from = (i: number) => `127.0.1.${(i % 50) + 1}`
    const started = performance.now()
    const { attack, logins } = await victimLogsInDuring(
      Promise.all(bodies.map((body, i) => post(from(i), '/auth/users', json(body)))),
    )
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(
      `50 addresses, ${FLOOD} registrations in ${seconds} s: ${JSON.stringify(tally(attack))}; ${percentiles(attack)}`,
    )
    console.log(
      `the other client's ${logins.length} logins meanwhile: ${JSON.stringify(tally(logins))}; ${percentiles(logins)}`,
    )

    // Only the documented answers: created, or shed (503 BUSY with Retry-After).
    const unexpected = attack.filter((answer) => answer.status !== 201 && outcome(answer) !== '503 BUSY')
    expect(unexpected.map(outcome)).toEqual([])
    expect(
      attack.filter((answer) => answer.status === 503).every((answer) => Number(answer.retryAfter) > 0),
    ).toBe(true)
    const loginFailures = logins.filter((answer) => answer.status !== 200 && outcome(answer) !== '503 BUSY')
    expect(loginFailures.map(outcome)).toEqual([])
    // Every 201 is a user, and no BUSY registration left one behind.
    const created = bodies.filter((_, i) => attack[i]!.status === 201).map((body) => body.username)
    expect(await usersCreated(bodies)).toEqual(created.sort())
    countRows(created.length, created.length)
    // The flood over, the other client logs in at once.
    const after = await post(
      '127.0.0.1',
      '/auth/token',
      form({ username: victim.username, password: victim.password }),
    )
    expect(outcome(after)).toBe('200')
    const health = await fetch(`${auth.baseUrl}/readyz`)
    expect(health.status).toBe(200)
  })
})
