// The floor for a DB-read endpoint: bare Fastify 5 and a pg pool of 10 (the
// services' default), one route that reads a row by the id in its path with a
// named (prepared) statement, or unnamed (parsed and planned on every request) with
// FLOOR_PREPARED=false; further parameters (billing's user id, which the service
// takes from the token) are fixed. No logging, validation or auth. FLOOR_PIPELINE=N
// sends the query through @app/db's PipelinedQueries on up to N shared connections
// instead of the pool, as the services do (scripts/pipelined-floor.ts). /healthz is the
// trivial route's floor: the same JSON as the services' liveness answer, nothing else.
import { PipelinedQueries } from '@app/db'
import Fastify from 'fastify'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })
const lanes = Number(process.env.FLOOR_PIPELINE ?? 0)
const pipelined =
  lanes > 0
    ? new PipelinedQueries({
        connections: lanes,
        createClient: () => new pg.Client({ connectionString: process.env.DATABASE_URL, pipeline: true }),
      })
    : undefined
const query = pipelined ? (config) => pipelined.query(config) : (config) => pool.query(config)
const fixed = JSON.parse(process.env.FLOOR_PARAMS ?? '[]').slice(1)
const name = process.env.FLOOR_PREPARED === 'false' ? undefined : 'floor_row'
const app = Fastify({ logger: false })
app.get('/readyz', async () => ({ status: 'ready' }))
app.get('/healthz', async () => ({ status: 'ok' }))
app.get('/row/:id', async (request, reply) => {
  const { rows } = await query({
    name,
    text: process.env.FLOOR_SQL,
    values: [request.params.id, ...fixed],
  })
  if (rows.length === 0) return reply.code(404).send({ error: 'not found' })
  return rows[0]
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
// A clean exit on the bench's SIGTERM, so that BENCH_NODE_ARGS=--cpu-prof writes the
// floor's profile too (a signal's default action ends the process before it can).
process.once('SIGTERM', () =>
  app
    .close()
    .then(() => Promise.all([pool.end(), pipelined?.end()]))
    .then(() => process.exit(0)),
)
