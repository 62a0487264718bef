// `make bench`: every section in one run, on one server, printed as a markdown
// table and written as JSON to bench/results/latest.json (and latest.md).
// A full run also rewrites bench/README.md's results section. `pnpm bench --only
// migrations,startup` runs a subset (of migrations, startup, http, breakdown, rate-limit) and
// `--duration 3` shortens the loads, `--rows users,pgbouncer` runs only the HTTP rows
// whose label contains one of these, `--rate 2000` loads the layers table at that fixed rate
// (none of the four touches bench/README.md). BENCH_DATABASE_URL measures another server;
// BENCH_NODE_ARGS="--cpu-prof" profiles the services.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { discoverServices } from '@app/migrations/authoring'
import { benchBreakdown } from './breakdown.js'
import { startBenchServer } from './database.js'
import { benchHttp } from './http.js'
import { benchMigrations } from './migrations.js'
import { benchRateLimit } from './rate-limit.js'
import { renderReport } from './report.js'
import { benchStartup } from './startup.js'

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    duration: { type: 'string' },
    rows: { type: 'string' },
    rate: { type: 'string' },
  },
})
const only = values.only ? new Set(values.only.split(',')) : undefined
const wanted = (section: string) => !only || only.has(section)

const resultsDir = fileURLToPath(new URL('../results', import.meta.url))
mkdirSync(resultsDir, { recursive: true })
const logFile = path.join(resultsDir, 'services.log.tmp')
writeFileSync(logFile, '')

const server = await startBenchServer(process.env)
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: {
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model.trim()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: server.description,
  },
}
try {
  const services = discoverServices()
  if (wanted('migrations')) {
    console.error('bench: migration runner...')
    report.migrations = await benchMigrations(server.adminUrl)
  }
  if (wanted('startup')) {
    console.error('bench: service start...')
    report.startup = await benchStartup(server.adminUrl, services, logFile)
  }
  if (wanted('http')) {
    console.error('bench: HTTP throughput and memory...')
    report.http = await benchHttp(server.adminUrl, services, logFile, {
      durationSec: values.duration ? Number(values.duration) : 10,
      rows: values.rows?.split(','),
      // --rate 2000: the layers table at that fixed rate (layers.ts says why).
      ...(values.rate ? { layersRate: Number(values.rate) } : {}),
    })
  }
  if (wanted('breakdown')) {
    console.error("bench: a DB read's CPU, part by part (in process)...")
    report.breakdown = await benchBreakdown(server.adminUrl, services.find((s) => s.name === 'auth')!)
  }
  if (wanted('rate-limit')) {
    console.error('bench: login rate limit stores...')
    report.rateLimit = await benchRateLimit(server.adminUrl, services.find((s) => s.name === 'auth')!, {
      durationSec: values.duration ? Number(values.duration) : 5,
    })
  }
} finally {
  await server.stop()
}

const markdown = renderReport(report)
writeFileSync(path.join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(path.join(resultsDir, 'latest.md'), markdown)
console.log(markdown)

// A full run (every section, full duration) is what bench/README.md shows.
if (!only && !values.duration && !values.rows && !values.rate) {
  const readme = fileURLToPath(new URL('../README.md', import.meta.url))
  const text = readFileSync(readme, 'utf8')
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`bench/README.md has no ${start} ... ${end} section`)
  writeFileSync(readme, `${text.slice(0, from + start.length)}\n${markdown}${text.slice(to)}`)
  console.error('bench: bench/README.md updated')
}
