// The write path and the login, each as a whole: POST /billing/user-subscriptions
// with an Idempotency-Key (auth asked whether the user exists, then one transaction:
// the key claimed, the plan read, the row inserted, the key's answer stored), and
// POST /auth/token (the rate limit check, the user read, one argon2id verification,
// the token signed) beside argon2id alone with the same parameters, in this process,
// as many at once as auth lets run (AUTH_ARGON2_CONCURRENCY's default).
import { randomUUID } from 'node:crypto'
import { verify } from '@node-rs/argon2'
import pg from 'pg'
import { hashPassword } from '../../services/auth/src/passwords.js'
import { type CpuSplit, cpuPerUnit } from './cpu.js'
import { type HttpFigure, loadHttp } from './load.js'
import type { RunningService } from './service-process.js'

export interface WriteFigure extends HttpFigure {
  endpoint: string
  connections: number
  /** serverUs: the service answering; othersUs: [auth] for billing's write (its user check). */
  cpu: CpuSplit
}

export interface LoginFigure extends WriteFigure {
  /** argon2id verifications per second with auth's parameters, `concurrency` at once, in this process. */
  argon2PerSec: number
  argon2Concurrency: number
  /** CPU µs of one verification (libuv's threads included). */
  argon2Us: number
}

/** Enough plans that no request of the run finds its user subscribed already (409). */
const PLANS = 100_000
/** As many logins in flight as auth queues (AUTH_ARGON2_MAX_WAITING's default, 32) without 503 BUSY. */
const LOGIN_CONNECTIONS = 16
/** AUTH_ARGON2_CONCURRENCY's default. */
const ARGON2_CONCURRENCY = 2

/**
 * Plans inserted as billing's owner, straight into the table: creating one through the
 * API takes an admin's token, and the bench needs up to PLANS of them.
 */
export async function insertPlans(billingOwnerUrl: string, count: number): Promise<string[]> {
  const owner = new pg.Client({ connectionString: billingOwnerUrl })
  await owner.connect()
  try {
    const { rows } = await owner.query<{ id: string }>(
      `INSERT INTO billing.subscriptions (category, price_minor, currency)
       SELECT 'bench', 999, 'EUR' FROM generate_series(1, $1) RETURNING id`,
      [count],
    )
    return rows.map((row) => row.id)
  } finally {
    await owner.end()
  }
}

async function measure(
  service: RunningService,
  others: RunningService[],
  load: Parameters<typeof loadHttp>[0],
): Promise<{ figure: HttpFigure; cpu: CpuSplit }> {
  await loadHttp({ ...load, durationSec: 2 }) // warm-up
  let figure: HttpFigure | undefined
  const run = await cpuPerUnit(
    service.child.pid,
    async () => {
      figure = await loadHttp(load)
      return figure.requestsPerSec * load.durationSec
    },
    others.map((other) => other.child.pid!),
  )
  return { figure: figure!, cpu: run.cpu }
}

export async function benchWrite(options: {
  billing: RunningService
  auth: RunningService
  /** billing's owner role: the plans are inserted directly, not through the API. */
  billingOwnerUrl: string
  authorization: string
  connections: number
  durationSec: number
}): Promise<WriteFigure> {
  const planIds = await insertPlans(options.billingOwnerUrl, PLANS)
  let next = 0
  const { figure, cpu } = await measure(options.billing, [options.auth], {
    url: `${options.billing.baseUrl}/billing/user-subscriptions`,
    method: 'POST',
    headers: { authorization: options.authorization, 'content-type': 'application/json' },
    connections: options.connections,
    durationSec: options.durationSec,
    perRequest: () => ({
      headers: { 'idempotency-key': randomUUID() },
      body: JSON.stringify({ subscriptionId: planIds[next++ % planIds.length] }),
    }),
  })
  return {
    endpoint: 'POST /billing/user-subscriptions (Idempotency-Key)',
    connections: options.connections,
    ...figure,
    cpu,
  }
}

export async function benchLogin(options: {
  auth: RunningService
  username: string
  password: string
  durationSec: number
}): Promise<LoginFigure> {
  const { figure, cpu } = await measure(options.auth, [], {
    url: `${options.auth.baseUrl}/auth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: options.username, password: options.password }).toString(),
    connections: LOGIN_CONNECTIONS,
    durationSec: options.durationSec,
  })

  // argon2id alone: the same parameters (auth's hashPassword made the hash), a correct password.
  const passwordHash = await hashPassword(options.password)
  let verified = 0
  const argon2 = await cpuPerUnit(undefined, async () => {
    const deadline = performance.now() + options.durationSec * 1000
    await Promise.all(
      Array.from({ length: ARGON2_CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          if (!(await verify(passwordHash, options.password))) throw new Error('argon2id: no match')
          verified++
        }
      }),
    )
    return verified
  })
  return {
    endpoint: 'POST /auth/token (login)',
    connections: LOGIN_CONNECTIONS,
    ...figure,
    cpu,
    argon2PerSec: Math.round(verified / options.durationSec),
    argon2Concurrency: ARGON2_CONCURRENCY,
    argon2Us: argon2.cpu.loadUs,
  }
}
