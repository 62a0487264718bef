import { type StatusReport, status } from '@app/db'
import { describeAdmin, openAdminDatabase, serviceUrl } from '../admin-database.js'
import type { Command } from '../command.js'
import { requireService } from '../repo.js'
import { table } from '../table.js'

export function formatStatus(report: StatusReport): string[] {
  const rows = report.entries.map((entry) => [
    entry.name,
    entry.state === 'applied'
      ? 'applied'
      : entry.state === 'changed'
        ? 'applied, FILE CHANGED (hash mismatch)'
        : entry.state,
    entry.appliedAt
      ? entry.appliedAt
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, 'Z')
      : '-',
    entry.hasDown ? 'yes' : 'NO',
  ])
  const summary = `${report.schema}: ${report.applied} applied, ${report.pending} pending${report.upToDate ? ', up to date' : ''}`
  return [...table(['migration', 'state', 'applied at', 'down'], rows), summary]
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
        url: serviceUrl(admin.url, service, env),
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
