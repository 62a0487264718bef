// What one login rate limit check costs, beside what one login costs: auth's own
// PostgreSQL store (auth.login_rate_limits through a pg pool of DB_POOL_MAX's default,
// as the service runs it) and @fastify/rate-limit's Redis store (ioredis, on a
// redis-server this part starts), each called through the library's store contract
// (`incr`), 1 and 50 at a time, from many client addresses and from one (a guesser's
// single hot key); and one login's argon2id verification with auth's parameters.
// Every check must be counted exactly (checked after each run), or the run fails.
import { createRequire } from 'node:module'
import { createServiceDatabase } from '@app/db'
import { migrate, silentLogger } from '@app/migrations'
import type { ServiceInfo } from '@app/migrations/authoring'
import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import pg from 'pg'
import { createLoginRateLimitsRepository } from '../../services/auth/src/db/login-rate-limits-repository.js'
import { ARGON2_OPTIONS, createPasswordVerifier, hashPassword } from '../../services/auth/src/passwords.js'
import { postgresRateLimitStore } from '../../services/auth/src/postgres-rate-limit-store.js'
import { type CpuSplit, cpuPerUnit } from './cpu.js'
import { benchDatabase } from './database.js'
import { REDIS_MISSING, startRedisServer } from './redis-server.js'
import { round } from './timing.js'

export interface RateLimitFigure {
  /** What one operation is: a check in one store, or a login's password verification. */
  subject: StoreName | 'login (argon2id verify)'
  addresses: 'many' | 'one' | '-'
  concurrency: number
  perSec: number
  p50Ms: number
  p99Ms: number
  /** CPU µs per operation: this process (client, store code, argon2) and the store's server. */
  clientUs: number
  serverUs: number
}

type StoreName = 'PostgreSQL store' | 'PostgreSQL store, UNLOGGED table' | 'Redis store'

export interface RateLimitFigures {
  durationSec: number
  poolMax: number
  argon2: string
  redis: { version: string } | { missing: string }
  figures: RateLimitFigure[]
}

const WINDOW_MS = 60_000
const MAX = 10
const POOL_MAX = 10 // DB_POOL_MAX's default
const CONCURRENCIES = [1, 50]
/** "Many addresses": checks spread over this many client keys. */
const ADDRESS_SPACE = 10_000

// What the plugin hands `child()` for auth's route: the merged limit options, the
// route under routeInfo (the typings describe only the route's own options).
const TOKEN_ROUTE = {
  max: MAX,
  timeWindow: WINDOW_MS,
  continueExceeding: false,
  exponentialBackoff: false,
  routeInfo: { method: 'POST', url: '/auth/token' },
} as unknown as Parameters<FastifyRateLimitStore['child']>[0]

/** The library's Redis store, as the plugin builds it for `redis: <ioredis>` (not exported by name). */
type RedisStoreCtor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
  nameSpace?: string,
) => FastifyRateLimitStore
const RedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as RedisStoreCtor

/** One check, as the plugin makes it: `incr(key, callback, timeWindow, max)`. */
function check(store: FastifyRateLimitStore, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    store.incr(key, (error, result) => (error ? reject(error) : resolve(result!.current)), WINDOW_MS, MAX)
  })
}

const manyAddresses = (i: number) => {
  const n = (i * 7919) % ADDRESS_SPACE
  return `10.${n >> 8}.${n & 255}.1`
}

/** `concurrency` workers calling `operation` back to back for `durationSec`. */
async function closedLoop(
  concurrency: number,
  durationSec: number,
  operation: (i: number) => Promise<unknown>,
): Promise<{ count: number; perSec: number; p50Ms: number; p99Ms: number }> {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  const deadline = started + durationSec * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now()
        await operation(next++)
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const elapsedSec = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return {
    count: latencies.length,
    perSec: Math.round(latencies.length / elapsedSec),
    p50Ms: round(at(0.5), 3),
    p99Ms: round(at(0.99), 3),
  }
}

/** A short unmeasured run first (connections opened, statements prepared), then the measured one. */
async function measure(
  subject: RateLimitFigure['subject'],
  addresses: RateLimitFigure['addresses'],
  concurrency: number,
  durationSec: number,
  options: { serverPid?: number; serverIsPostgres?: boolean },
  operation: (i: number) => Promise<unknown>,
): Promise<{ figure: RateLimitFigure; count: number }> {
  await closedLoop(concurrency, Math.min(1, durationSec / 4), operation)
  let loop: Awaited<ReturnType<typeof closedLoop>> | undefined
  const { cpu } = await cpuPerUnit(options.serverPid, async (done) => {
    loop = await closedLoop(concurrency, durationSec, operation)
    done()
    return loop.count
  })
  const serverUs = (split: CpuSplit) => (options.serverIsPostgres ? split.postgresUs : split.serverUs)
  const { count, perSec, p50Ms, p99Ms } = loop!
  return {
    figure: {
      subject,
      addresses,
      concurrency,
      perSec,
      p50Ms,
      p99Ms,
      clientUs: cpu.loadUs,
      serverUs: serverUs(cpu),
    },
    count,
  }
}

/** Checks from many addresses at each concurrency, then from one address at the highest. */
async function benchStore(
  subject: StoreName,
  store: FastifyRateLimitStore,
  durationSec: number,
  options: { serverPid?: number; serverIsPostgres?: boolean; hitsOf: (key: string) => Promise<number> },
): Promise<RateLimitFigure[]> {
  const figures: RateLimitFigure[] = []
  for (const concurrency of CONCURRENCIES) {
    const run = await measure(subject, 'many', concurrency, durationSec, options, (i) =>
      check(store, manyAddresses(i)),
    )
    figures.push(run.figure)
  }
  const concurrency = Math.max(...CONCURRENCIES)
  const hot = `203.0.113.${concurrency}`
  let checks = 0
  const run = await measure(subject, 'one', concurrency, durationSec, options, async () => {
    await check(store, hot)
    checks++
  })
  figures.push(run.figure)
  // The point of a shared store: not one check lost, however many at once.
  const counted = await options.hitsOf(hot)
  if (counted !== checks) throw new Error(`${subject}: ${checks} checks on one key, ${counted} counted`)
  return figures
}

export async function benchRateLimit(
  adminUrl: string,
  auth: ServiceInfo,
  options: { durationSec?: number } = {},
): Promise<RateLimitFigures> {
  const durationSec = options.durationSec ?? 5
  const figures: RateLimitFigure[] = []

  // PostgreSQL: auth's migrations on a fresh database, the store over the service's pool.
  const database = await benchDatabase(adminUrl, 'rate_limit')
  try {
    await migrate({
      url: database.url,
      schema: auth.schema,
      migrationsFolder: auth.migrationsFolder,
      logger: silentLogger,
    })
    const service = createServiceDatabase({
      url: database.url,
      applicationName: 'bench-rate-limit',
      max: POOL_MAX,
    })
    const admin = new pg.Client({ connectionString: database.url })
    await admin.connect()
    try {
      const Store = postgresRateLimitStore(createLoginRateLimitsRepository(service.db))
      const store = new Store({}).child(TOKEN_ROUTE)
      const postgres = {
        serverIsPostgres: true,
        hitsOf: async (address: string) =>
          (
            await admin.query<{ hits: number }>('SELECT hits FROM auth.login_rate_limits WHERE key = $1', [
              `POST /auth/token ${address}`,
            ])
          ).rows[0]?.hits ?? 0,
      }
      figures.push(...(await benchStore('PostgreSQL store', store, durationSec, postgres)))
      // Not what auth does (drizzle-kit cannot declare it, and the counts would not survive
      // a crash or reach a standby): how much of a check is the durable commit's WAL flush.
      await admin.query('TRUNCATE auth.login_rate_limits')
      await admin.query('ALTER TABLE auth.login_rate_limits SET UNLOGGED')
      figures.push(...(await benchStore('PostgreSQL store, UNLOGGED table', store, durationSec, postgres)))
    } finally {
      await admin.end()
      await service.close()
    }
  } finally {
    await database.drop()
  }

  // Redis: the library's own store on a throwaway server.
  const redisServer = await startRedisServer()
  let redis: RateLimitFigures['redis']
  if ('missing' in redisServer) {
    console.error(`bench: ${REDIS_MISSING}`)
    redis = redisServer
  } else {
    redis = { version: redisServer.version }
    // As the library's README recommends for rate limiting: fail fast, not queue.
    const client = new Redis({
      host: '127.0.0.1',
      port: redisServer.port,
      connectTimeout: 500,
      maxRetriesPerRequest: 1,
    })
    try {
      const store = new RedisStore(false, false, client).child(TOKEN_ROUTE)
      figures.push(
        ...(await benchStore('Redis store', store, durationSec, {
          serverPid: redisServer.pid,
          hitsOf: async (address) =>
            Number(await client.get(`fastify-rate-limit-POST/auth/token-${address}`)),
        })),
      )
    } finally {
      client.disconnect()
      await redisServer.stop()
    }
  }

  // One login's argon2id: what every attempt that passes the check then costs.
  const verifier = createPasswordVerifier()
  const passwordHash = await hashPassword('correct horse battery staple')
  for (const concurrency of CONCURRENCIES) {
    const run = await measure('login (argon2id verify)', '-', concurrency, durationSec, {}, () =>
      verifier.verify(passwordHash, 'a wrong guess'),
    )
    figures.push(run.figure)
  }

  return {
    durationSec,
    poolMax: POOL_MAX,
    argon2: `m=${ARGON2_OPTIONS.memoryCost} KiB, t=${ARGON2_OPTIONS.timeCost}, p=${ARGON2_OPTIONS.parallelism}`,
    redis,
    figures,
  }
}
