// Where a DB-read request's CPU goes inside the service, measured in this process
// (no socket, no load generator: a few µs stand out of the noise that three
// processes on two shared cores make): auth's GET /auth/users/{id} through Fastify's
// inject() as auth builds it for production (JSON log lines to a file, /metrics on),
// and the same with each part taken away or alone, beside a bare Fastify route with
// the same SQL. Each figure is the fastest of many blocks (other processes only ever
// add CPU time), in µs of CPU per request.
import { openSync, writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { migrate, silentLogger } from '@app/migrations'
import { bootstrapServices, ownerUrl, runtimeUrl, type ServiceInfo } from '@app/migrations/authoring'
import { createTokenVerifier, IdParams, loggerOptions } from '@app/service'
import Fastify from 'fastify'
import pg from 'pg'
import { createValidatorCompiler } from '../../packages/service/src/validation.js'
import { buildApp } from '../../services/auth/src/app.js'
import { loadConfig } from '../../services/auth/src/config.js'
import { createUsersRepository } from '../../services/auth/src/db/users-repository.js'
import { User } from '../../services/auth/src/schemas/users.js'
import { authSigningKeyEnv } from './auth-signing-key.js'
import { benchDatabase } from './database.js'
import { round } from './timing.js'

export interface BreakdownFigure {
  part: string
  us: number
}

const BLOCK = 500
const ROUNDS = 20

/**
 * The least CPU µs per call of each, over ROUNDS blocks of BLOCK calls, the calls'
 * blocks in turns (a drift of the machine falls on all of them).
 */
async function fastest(calls: (() => unknown)[]): Promise<number[]> {
  const best = calls.map(() => Number.POSITIVE_INFINITY)
  for (let round = -1; round < ROUNDS; round++) {
    for (const [index, call] of calls.entries()) {
      const started = process.cpuUsage()
      for (let i = 0; i < BLOCK; i++) await call()
      const used = process.cpuUsage(started)
      // Round -1 warms up (JIT, the pool's connection).
      if (round >= 0) best[index] = Math.min(best[index]!, (used.user + used.system) / BLOCK)
    }
  }
  return best
}

export async function benchBreakdown(adminUrl: string, auth: ServiceInfo): Promise<BreakdownFigure[]> {
  const database = await benchDatabase(adminUrl, 'breakdown')
  const apps: { close(): Promise<unknown> }[] = []
  const pool = new pg.Pool({ connectionString: runtimeUrl(database.url, auth, {}), max: 1 })
  try {
    await bootstrapServices(database.url, [auth], {})
    await migrate({
      url: ownerUrl(database.url, auth, {}),
      schema: auth.schema,
      migrationsFolder: auth.migrationsFolder,
      logger: silentLogger,
    })
    // As production logs: pino, synchronous writes, to a file rather than a terminal.
    const logFd = openSync(path.join(process.env.TMPDIR ?? '/tmp', `bench-breakdown-${process.pid}.log`), 'w')
    const logStream = { write: (line: string) => writeSync(logFd, line) }
    const baseEnv = {
      DATABASE_URL: runtimeUrl(database.url, auth, {}),
      MIGRATION_DATABASE_URL: ownerUrl(database.url, auth, {}),
      MIGRATE_ON_START: 'false',
      DB_POOL_MAX: '1',
      AUTH_TOKEN_RATE_LIMIT_MAX: '1000000',
      ...authSigningKeyEnv(),
    }
    const build = async (env: Record<string, string>) => {
      const config = loadConfig({ ...baseEnv, ...env })
      const app = await buildApp(config, {
        logger: loggerOptions({ level: config.logLevel, name: 'auth' }, logStream),
      })
      await app.ready()
      app.lifecycle.markReady()
      apps.push(app)
      return { app, config }
    }
    const production = await build({})
    const { app, config } = production
    const created = await app.inject({
      method: 'POST',
      url: '/auth/users',
      payload: {
        username: 'breakdown',
        email: 'breakdown@example.com',
        password: 'correct horse battery staple',
      },
    })
    const userId = created.json<{ id: string }>().id
    const login = await app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: 'username=breakdown&password=correct+horse+battery+staple',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    const token = login.json<{ access_token: string }>().access_token
    const request = { url: `/auth/users/${userId}`, headers: { authorization: `Bearer ${token}` } }
    const read = (target: typeof app) => async () => {
      const response = await target.inject(request)
      if (response.statusCode !== 200)
        throw new Error(`GET ${request.url}: ${response.statusCode} ${response.body}`)
    }

    const noLog = await build({ LOG_REQUESTS: 'none' })
    const noMetrics = await build({ METRICS_ENABLED: 'false' })

    // Bare Fastify, the same SQL, prepared: the floor of the inject() figures.
    const bare = Fastify({ logger: false })
    apps.push(bare)
    const sql = {
      name: 'bare_row',
      text: 'SELECT id, username, email, disabled, created_at, updated_at FROM auth.users WHERE id = $1',
    }
    bare.get('/auth/users/:id', async (req) => {
      const { rows } = await pool.query({ ...sql, values: [(req.params as { id: string }).id] })
      return rows[0]
    })
    await bare.ready()

    // The parts alone.
    const verify = createTokenVerifier({
      keys: app.tokens.keys,
      issuer: config.jwt.issuer,
      audience: 'auth',
      loginHint: 'POST /auth/token',
    })
    const validate = createValidatorCompiler()({
      schema: IdParams('id'),
      method: 'GET',
      url: '/',
      httpPart: 'params',
    }) as (data: unknown) => boolean
    const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'))
    const fastJson = fastifyRequire('fast-json-stringify') as (schema: unknown) => (data: unknown) => string
    const serialize = fastJson(User)
    const user = (await app.inject(request)).json<Record<string, unknown>>()
    const asStored = {
      ...user,
      createdAt: new Date(user.createdAt as string),
      updatedAt: new Date(user.updatedAt as string),
    }
    const logger = app.log.child({ reqId: '00000000-0000-4000-8000-000000000000' })
    const line = { method: 'GET', url: request.url, statusCode: 200, ms: 1.2 }

    const figures: BreakdownFigure[] = []
    const add = (part: string, us: number) => figures.push({ part, us: round(us, 1) })
    const users = createUsersRepository(app.db)
    const [full, bareUs, withoutLog, withoutMetrics, drizzleUs, pgUs] = await fastest([
      read(app),
      read(bare),
      read(noLog.app),
      read(noMetrics.app),
      () => users.findById(userId),
      () => pool.query({ ...sql, values: [userId] }),
    ])
    const [verifyUs, validateUs, serializeUs, stringifyUs, logUs] = await fastest([
      () => verify(token),
      () => validate({ id: userId }),
      () => serialize(asStored),
      () => JSON.stringify(asStored),
      () => logger.info(line, 'request'),
    ])
    add('GET /auth/users/{id} as in production (inject)', full!)
    add('bare Fastify + pg, same SQL, prepared (inject)', bareUs!)
    add('↳ the request log line (production - LOG_REQUESTS=none)', full! - withoutLog!)
    add('↳ the /metrics hook (production - METRICS_ENABLED=false)', full! - withoutMetrics!)
    add('↳ one log line (pino, alone)', logUs!)
    add('↳ the token check, a token seen before (the verifier alone)', verifyUs!)
    add('↳ validating the id (ajv, alone)', validateUs!)
    add('↳ the response schema (fast-json-stringify, alone)', serializeUs!)
    add('↳ JSON.stringify of the same (what bare does)', stringifyUs!)
    add('↳ the query through the repository (Drizzle, prepared)', drizzleUs!)
    add('↳ the query through pg alone (prepared)', pgUs!)
    return figures
  } finally {
    for (const app of apps) await app.close()
    await pool.end()
    await database.drop()
  }
}
