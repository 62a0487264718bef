// Replicas the way the README starts them: six `make run svc=auth` and six `make
// run svc=billing`, all at once, each on its own PORT, against one empty database
// (never bootstrapped: every `make run` bootstraps, so twelve bootstraps race, then
// twelve services race for the migrations). Several rounds, each on a new database:
// every instance becomes ready and stops cleanly on Ctrl-C.

import { createScratchDatabase } from '@app/db'
import { freePort } from '@app/db/embedded'
import { cleanEnv, MakeJob } from '@app/testkit'
import { afterAll, afterEach, expect, inject, test } from 'vitest'
import { query } from './support/databases.js'
import { saveFigures } from './support/figures.js'

const PER_SERVICE = 6
const ROUNDS = 2

const jobs: MakeJob[] = []
afterEach(async () => {
  for (const job of jobs.splice(0)) await job.kill()
})
afterAll(() => saveFigures(import.meta.filename))

async function readyz(port: number): Promise<number> {
  return fetch(`http://127.0.0.1:${port}/readyz`).then(
    async (response) => {
      await response.body?.cancel()
      return response.status
    },
    () => 0,
  )
}

test(`${PER_SERVICE} make run of each service at once, ${ROUNDS} rounds: all ready, all stop on Ctrl-C`, async () => {
  const run = inject('testRun')
  for (let round = 1; round <= ROUNDS; round++) {
    const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_makerun` })
    try {
      const instances = await Promise.all(
        ['auth', 'billing'].flatMap((svc) =>
          Array.from({ length: PER_SERVICE }, async () => ({ svc, port: await freePort() })),
        ),
      )
      const authPort = instances.find((i) => i.svc === 'auth')!.port
      const started = instances.map(({ svc, port }) => {
        const job = new MakeJob(
          ['run', `svc=${svc}`],
          cleanEnv({
            DATABASE_URL: database.url,
            PORT: String(port),
            AUTH_URL: `http://127.0.0.1:${authPort}`,
          }),
        )
        jobs.push(job)
        return { svc, port, job }
      })
      await Promise.all(
        started.map(({ svc, job }) => job.waitFor(new RegExp(`^${svc}\\s+.*${svc}: ready on `, 'm'))),
      )
      for (const { port } of started) expect(await readyz(port)).toBe(200)
      // One ledger row per migration although twelve processes raced for them.
      for (const svc of ['auth', 'billing']) {
        const [duplicates] = await query<{ n: number }>(
          database.url,
          `SELECT count(*)::int - count(DISTINCT created_at)::int AS n FROM ${svc}.__drizzle_migrations`,
        )
        expect(duplicates!.n).toBe(0)
      }

      for (const { job } of started) job.interrupt()
      for (const { job } of started) await job.exited
      for (const { svc, job } of started) {
        const runLines = job.output.split('\n').filter((line) => line.startsWith('run '))
        expect(runLines.at(-1), job.output).toMatch(new RegExp(`${svc}: stopped \\(exit code 0\\)$`))
        expect(job.output).not.toMatch(/tuple concurrently updated/)
      }
      console.log(`round ${round}: ${started.length} make run instances ready and stopped`)
    } finally {
      await database.drop()
    }
  }
  // Twelve makes, their builds (taking turns) and twelve services on two cores.
}, 300_000)
