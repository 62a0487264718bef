// A/B of @app/db's DescribedStatementsClient (a named statement's rows described once per
// connection) against stock pg.Client, the way make bench measures its raw pool
// (src/load.ts's loadSql, src/turns.ts's turns): auth's read by id, the SQL Drizzle sends
// with rows as arrays, from a pool of 10, 50 at a time, as fast as the database answers, in
// turns of 3 s. Prints each one's queries/s, the client's CPU per query and PostgreSQL's
// (every postgres process on this machine), and the ratio. Needs `make build` (@app/db's
// dist).
//
//   pnpm --filter ./bench exec tsx scripts/described-statements.ts ADMIN_DATABASE_URL [ROUNDS]
import { createScratchDatabase, DescribedStatementsClient } from '@app/db'
import pg from 'pg'
import { AUTH_READ_SQL, createAuthReadFixture } from '../src/auth-read-fixture.js'
import { loadSql } from '../src/load.js'
import { inTurns, type Party } from '../src/turns.js'

const [adminUrl, roundsArg] = process.argv.slice(2)
if (!adminUrl) {
  console.error('usage: tsx scripts/described-statements.ts ADMIN_DATABASE_URL [ROUNDS]')
  process.exit(2)
}
const ROUNDS = Number(roundsArg ?? 8)
const SLICE_SEC = 3

const database = await createScratchDatabase(adminUrl, { prefix: 'bench_described' })
try {
  const id = await createAuthReadFixture(database.url)

  const clients = { 'stock pg.Client': pg.Client, DescribedStatementsClient }
  const party = (Client: typeof pg.Client): Party<undefined> => ({
    async slice(seconds, done) {
      const result = await loadSql({
        url: database.url,
        text: AUTH_READ_SQL,
        values: [id],
        rowMode: 'array',
        Client,
        connections: 50,
        poolSize: 10,
        durationSec: seconds,
        onLoadEnd: done,
      })
      return { units: result.queries, detail: undefined }
    },
  })
  const parties = Object.values(clients).map(party)
  await inTurns(parties, { rounds: 1, sliceSec: 1 }) // warm-up (JIT)
  const figures = await inTurns(parties, { rounds: ROUNDS, sliceSec: SLICE_SEC })
  console.log('| client | queries/s | client CPU µs/query | PostgreSQL CPU µs/query |')
  console.log('| ------ | --------- | ------------------- | ----------------------- |')
  Object.keys(clients).forEach((name, i) => {
    const figure = figures[i]!
    console.log(`| ${name} | ${figure.perSec} | ${figure.cpu.loadUs} | ${figure.cpu.postgresUs} |`)
  })
  const [stock, described] = figures
  console.log(
    `\nDescribedStatementsClient: ${(described!.perSec / stock!.perSec).toFixed(3)} × stock's queries/s`,
  )
} finally {
  await database.drop()
}
