// A/B of pipelining on bare Fastify's DB-read route (src/floor-fastify.mjs): auth's
// read by id, prepared, from a pg pool of 10 (one query per connection at a time, as
// make bench's bare routes run it) against the same route through @app/db's
// PipelinedQueries on up to N shared connections (FLOOR_PIPELINE, as the services do
// with DB_PIPELINE_CONNECTIONS), 50 connections of autocannon each, in turns of 2 s.
// Prints requests/s, CPU µs per request of the route's process, PostgreSQL and the
// load generator, and the route's read and write system calls per request.
//
//   pnpm --filter ./bench exec tsx scripts/pipelined-floor.ts ADMIN_DATABASE_URL [ROUNDS] [N,N...]
import { fileURLToPath } from 'node:url'
import { createScratchDatabase } from '@app/db'
import { freePort } from '@app/db/embedded'
import { AUTH_READ_SQL, createAuthReadFixture } from '../src/auth-read-fixture.js'
import { httpParty } from '../src/load.js'
import { startService } from '../src/service-process.js'
import { inTurns } from '../src/turns.js'

const [adminUrl, roundsArg, sizesArg] = process.argv.slice(2)
const ROUNDS = Number(roundsArg ?? 6)
const sizes = (sizesArg ?? '1,2').split(',')
const FLOOR = fileURLToPath(new URL('../src/floor-fastify.mjs', import.meta.url))
const database = await createScratchDatabase(adminUrl!, { prefix: 'bench_pipelined' })
const started: { stop(): Promise<unknown> }[] = []
try {
  const id = await createAuthReadFixture(database.url)
  const text = AUTH_READ_SQL
  const variants = ['0', ...sizes] // 0: the pool
  const servers = []
  for (const n of variants) {
    const server = await startService({
      entry: FLOOR,
      name: `floor ${n}`,
      env: {
        DATABASE_URL: database.url,
        FLOOR_SQL: text,
        FLOOR_PARAMS: JSON.stringify([id]),
        FLOOR_PREPARED: 'true',
        FLOOR_PIPELINE: n,
        PORT: String(await freePort()),
      },
      logFile: `/tmp/floor-${n}.log`,
    })
    started.push(server)
    servers.push(server)
  }
  const parties = servers.map((server) =>
    httpParty(
      server.child.pid,
      { url: `${server.baseUrl}/row/${id}`, connections: 50 },
      { refuseFailures: 'floor' },
    ),
  )
  await inTurns(parties, { rounds: 1, sliceSec: 2 })
  const figures = await inTurns(parties, { rounds: ROUNDS, sliceSec: 2 })
  console.log('| route | req/s | route µs | PostgreSQL µs | load µs | syscalls |')
  console.log('| ----- | ----- | -------- | ------------- | ------- | -------- |')
  variants.forEach((n, i) => {
    const f = figures[i]!
    console.log(
      `| ${n === '0' ? 'pool of 10' : `pipelined, up to ${n}`} | ${f.perSec} | ${f.cpu.serverUs} | ${f.cpu.postgresUs} | ${f.cpu.loadUs} | ${f.cpu.serverSyscalls} |`,
    )
  })
} finally {
  for (const server of started) await server.stop()
  await database.drop()
}
