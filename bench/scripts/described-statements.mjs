#!/usr/bin/env node
// A/B of @app/db's DescribedStatementsClient (a named statement's rows described once per
// connection) against stock pg.Client: auth's read by id (the same SQL Drizzle sends, rows
// as arrays) from a pool of 10, 50 at a time, as fast as the database answers, in turns of
// 3 s (the order swapped every round, the first round a warm-up). Prints each one's
// queries/s, its CPU per query and PostgreSQL's (every postgres process on this machine,
// from /proc), and the ratio. Needs `make build` (it loads @app/db's dist).
//
//   node bench/scripts/described-statements.mjs ADMIN_DATABASE_URL [ROUNDS]
import { readdirSync, readFileSync } from 'node:fs'
import { createScratchDatabase, DescribedStatementsClient } from '@app/db'
import pg from 'pg'

const [adminUrl, roundsArg] = process.argv.slice(2)
if (!adminUrl) {
  console.error('usage: node bench/scripts/described-statements.mjs ADMIN_DATABASE_URL [ROUNDS]')
  process.exit(2)
}
const ROUNDS = Number(roundsArg ?? 8)
const SLICE_MS = 3000

function postgresCpuSeconds() {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (!stat.includes(' (postgres) ')) continue
      const fields = stat.split(') ')[1].split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / 100
    } catch {
      // It ended between readdir and read.
    }
  }
  return total
}

const database = await createScratchDatabase(adminUrl, { prefix: 'bench_described' })
const pools = {}
try {
  const setup = new pg.Client(database.url)
  await setup.connect()
  await setup.query(`CREATE SCHEMA auth;
    CREATE TABLE auth.users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), username varchar(32) NOT NULL,
      email varchar(254) NOT NULL, disabled boolean NOT NULL DEFAULT false,
      created_at timestamptz(3) NOT NULL DEFAULT now(), updated_at timestamptz(3) NOT NULL DEFAULT now());
    INSERT INTO auth.users (username, email) VALUES ('bench', 'bench@example.com')`)
  const id = (await setup.query('SELECT id FROM auth.users')).rows[0].id
  await setup.end()

  const query = {
    name: 'auth_users_by_id',
    text: 'select "id", "username", "email", "disabled", "created_at", "updated_at" from "auth"."users" where "users"."id" = $1',
    rowMode: 'array',
    values: [id],
  }
  pools['stock pg.Client'] = new pg.Pool({ connectionString: database.url, max: 10 })
  pools.DescribedStatementsClient = new pg.Pool({
    connectionString: database.url,
    max: 10,
    Client: DescribedStatementsClient,
  })
  // The scratch database is dropped WITH (FORCE) at the end: a connection it ends is no crash.
  for (const pool of Object.values(pools)) pool.on('error', () => {})
  const totals = Object.fromEntries(Object.keys(pools).map((name) => [name, { queries: 0, cpu: 0, pg: 0 }]))

  const slice = async (pool) => {
    let queries = 0
    const end = performance.now() + SLICE_MS
    const cpu = process.cpuUsage()
    const pgBefore = postgresCpuSeconds()
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (performance.now() < end) {
          await pool.query(query)
          queries++
        }
      }),
    )
    const used = process.cpuUsage(cpu)
    return { queries, cpu: (used.user + used.system) / 1e6, pg: postgresCpuSeconds() - pgBefore }
  }

  for (let round = 0; round <= ROUNDS; round++) {
    const names = Object.keys(pools)
    for (const name of round % 2 ? names.reverse() : names) {
      const figure = await slice(pools[name])
      if (round === 0) continue
      totals[name].queries += figure.queries
      totals[name].cpu += figure.cpu
      totals[name].pg += figure.pg
    }
  }
  const perSecond = (total) => total.queries / ((ROUNDS * SLICE_MS) / 1000)
  console.log('| client | queries/s | client CPU µs/query | PostgreSQL CPU µs/query |')
  console.log('| ------ | --------- | ------------------- | ----------------------- |')
  for (const [name, total] of Object.entries(totals)) {
    const us = (seconds) => ((seconds * 1e6) / total.queries).toFixed(1)
    console.log(`| ${name} | ${Math.round(perSecond(total))} | ${us(total.cpu)} | ${us(total.pg)} |`)
  }
  const [stock, described] = Object.values(totals)
  console.log(
    `\nDescribedStatementsClient: ${(perSecond(described) / perSecond(stock)).toFixed(3)} × stock's queries/s`,
  )
} finally {
  for (const pool of Object.values(pools)) await pool.end()
  await database.drop()
}
