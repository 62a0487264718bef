// Renders the figures as markdown tables, each figure beside its reference and
// the target.
import type { MigrationFigures } from './migrations.js'
import type { StartupFigures } from './startup.js'

function tableOf(headers: string[], rows: (string | number)[][]): string {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
}

const ratio = (value: number, reference: number) => (reference > 0 ? (value / reference).toFixed(2) : '-')

export function renderReport(report: Record<string, unknown>): string {
  const parts: string[] = []
  const machine = report.machine as Record<string, string | number>
  parts.push(
    `Measured ${String(report.date).slice(0, 10)} on ${machine.cpus}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.postgres}.`,
  )

  const migrations = report.migrations as
    | { figures: MigrationFigures[]; concurrent: { runners: number; migrations: number; ms: number; appliedTotal: number } }
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
        ['service', 'empty database (applies migrations)', 'migrations already applied', 'floor: node + pg + http', 'ratio to floor', 'target'],
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
  return `${parts.join('\n\n')}\n`
}
