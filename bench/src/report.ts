// Renders the figures as markdown tables, each figure beside its reference and
// the issue's target.
import type { EndpointFigure } from './http.js'
import type { MigrationFigures } from './migrations.js'
import type { StartupFigures } from './startup.js'

// Columns padded to their widest cell: the layout the repository's formatter (Biome)
// gives markdown tables, so the README section a run rewrites stays formatted.
function tableOf(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows].map((row) => row.map(String))
  const widths = headers.map((_, column) => Math.max(3, ...cells.map((row) => [...row[column]!].length)))
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length)).join(' | ')} |`
  return [line(cells[0]!), line(widths.map((width) => '-'.repeat(width))), ...cells.slice(1).map(line)].join(
    '\n',
  )
}

const ratio = (value: number, reference: number) => (reference > 0 ? (value / reference).toFixed(2) : '-')

export function renderReport(report: Record<string, unknown>): string {
  const parts: string[] = []
  const machine = report.machine as Record<string, string | number>
  parts.push(
    `Measured ${String(report.date).slice(0, 10)} on ${machine.cpus}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.postgres}.`,
  )

  const migrations = report.migrations as
    | {
        figures: MigrationFigures[]
        concurrent: { runners: number; migrations: number; ms: number; appliedTotal: number }
      }
    | undefined
  if (migrations) {
    parts.push('### Migration runner')
    parts.push(
      tableOf(
        [
          'migrations',
          'cold apply',
          'no-op check',
          'no-op, connected',
          'floor: connect + SELECT 1',
          "drizzle's migrate() no-op",
          'target',
        ],
        migrations.figures.map((f) => [
          f.migrations,
          `${f.coldMs} ms`,
          `${f.noopMs} ms`,
          `${f.noopConnectedMs} ms`,
          `${f.connectAndSelectMs} ms`,
          `${f.drizzleNoopMs} ms`,
          f.migrations === 100 ? 'no-op ≤ 5 ms' : '',
        ]),
      ),
    )
    const c = migrations.concurrent
    parts.push(
      `${c.runners} runners started at once on an empty database with ${c.migrations} migrations: all done in ${c.ms} ms, ${c.appliedTotal} migrations applied in total (each exactly once).`,
    )
  }

  const startup = report.startup as StartupFigures[] | undefined
  if (startup) {
    parts.push('### Service start: process launch to /readyz 200 (median of 5)')
    parts.push(
      tableOf(
        [
          'service',
          'empty database (applies migrations)',
          'migrations already applied',
          'floor: node + pg + http',
          'ratio to floor',
          'target',
        ],
        startup.map((s) => [
          s.service,
          `${s.emptyDbMs} ms`,
          `${s.migratedMs} ms`,
          `${s.floorMs} ms`,
          ratio(s.migratedMs, s.floorMs),
          'applied ≤ 300 ms',
        ]),
      ),
    )
  }
  const http = report.http as
    | { connections: number; durationSec: number; figures: EndpointFigure[]; pgbenchTps?: number }
    | undefined
  if (http) {
    const reads = http.figures.filter((f) => f.raw && f.bare)
    parts.push(
      `### HTTP: ${http.connections} connections for ${http.durationSec} s (autocannon), production logging on`,
    )
    parts.push(
      tableOf(
        [
          'endpoint',
          'req/s',
          'p99',
          'raw: same SQL, plain pg pool',
          'fraction of raw (target ≥ 0.50)',
          'bare Fastify + pg, same SQL',
          'bare: fraction of raw',
          'endpoint: fraction of bare',
          'non-2xx',
        ],
        http.figures.map((f) =>
          f.raw && f.bare
            ? [
                f.endpoint,
                f.requestsPerSec,
                `${f.p99Ms} ms`,
                `${f.raw.queriesPerSec} q/s`,
                ratio(f.requestsPerSec, f.raw.queriesPerSec),
                `${f.bare.requestsPerSec} req/s`,
                ratio(f.bare.requestsPerSec, f.raw.queriesPerSec),
                ratio(f.requestsPerSec, f.bare.requestsPerSec),
                f.non2xx + f.errors,
              ]
            : [
                f.endpoint,
                f.requestsPerSec,
                `${f.p99Ms} ms`,
                '-',
                `target ≥ 40k req/s`,
                '-',
                '-',
                '-',
                f.non2xx + f.errors,
              ],
        ),
      ),
    )
    if (http.pgbenchTps) {
      parts.push(
        `pgbench -S (select-only, ${http.connections} clients) on the same server: ${http.pgbenchTps} tps. Endpoints as a fraction of it: ${reads
          .map((f) => `${f.endpoint} ${ratio(f.requestsPerSec, http.pgbenchTps!)}`)
          .join(', ')}.`,
      )
    }
    parts.push('#### Where the CPU goes: µs per request (per query for the raw pool)')
    parts.push(
      tableOf(
        [
          'endpoint',
          'service',
          'PostgreSQL',
          'load generator',
          'bare Fastify',
          'its PostgreSQL',
          'raw pool client',
          'its PostgreSQL',
        ],
        http.figures.map((f) => [
          f.endpoint,
          f.cpu.serverUs,
          f.cpu.postgresUs,
          f.cpu.loadUs,
          f.bare?.cpu.serverUs ?? '-',
          f.bare?.cpu.postgresUs ?? '-',
          f.raw?.cpu.loadUs ?? '-',
          f.raw?.cpu.postgresUs ?? '-',
        ]),
      ),
    )
    parts.push('### Memory: RSS per service (target ≤ 100 MB idle, ≤ 150 MB under load)')
    parts.push(
      tableOf(
        ['endpoint under load', 'service', 'idle (started, migrated, no request yet)', 'peak under load'],
        http.figures.map((f) => [f.endpoint, f.service, `${f.rssIdleMb} MB`, `${f.rssLoadMb} MB`]),
      ),
    )
  }
  return `${parts.join('\n\n')}\n`
}
