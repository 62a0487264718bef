import { type StatusReport, status } from '@app/migrations'
import { ownerUrl, requireService } from '@app/migrations/authoring'
import { describeAdmin, openAdminDatabase } from '../admin-database.js'
import type { Command } from '../command.js'
import { table } from '../table.js'

const timestamp = (date: Date) =>
  date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')

/** One row per migration: Alembic's `current` and `history` in one table. */
export function formatStatus(report: StatusReport): string[] {
  const rows = report.entries.map((entry) => {
    const recorded = entry.state === 'applied' || entry.state === 'changed' || entry.state === 'unknown'
    return [
      entry.name,
      entry.appliedAt ? timestamp(entry.appliedAt) : recorded ? '(not recorded)' : '-',
      entry.state === 'pending' ? 'yes' : entry.state === 'out-of-order' ? 'yes, OUT OF ORDER' : 'no',
      entry.state === 'changed'
        ? 'MISMATCH (file changed)'
        : entry.state === 'unknown'
          ? 'not in folder'
          : recorded
            ? 'ok'
            : '-',
      entry.state === 'unknown' ? '-' : entry.hasDown ? 'yes' : 'MISSING',
    ]
  })
  const summary = `${report.schema}: ${report.applied} applied, ${report.pending} pending${report.upToDate ? ', up to date' : ''}`
  return [...table(['migration', 'applied at', 'pending', 'hash', 'down'], rows), summary]
}

export const statusCommand: Command = {
  name: 'status',
  usage: 'status --svc <service>',
  summary: 'every migration: applied (when) or pending, with any hash mismatch',
  async run({ options, env, out }) {
    const service = requireService(options.svc)
    const admin = await openAdminDatabase(env, out)
    try {
      out(`${service.name}: schema "${service.schema}" on ${describeAdmin(admin)}`)
      const report = await status({
        url: ownerUrl(admin.url, service, env),
        schema: service.schema,
        migrationsFolder: service.migrationsFolder,
      })
      for (const line of formatStatus(report)) out(line)
      return report.entries.some((e) => e.state === 'changed' || e.state === 'out-of-order') ? 1 : 0
    } finally {
      await admin.release()
    }
  },
}
