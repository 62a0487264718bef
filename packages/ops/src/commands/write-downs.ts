import path from 'node:path'
import { requireService, writeDowns } from '@app/migrations/authoring'
import type { Command } from '../command.js'

export const writeDownsCommand: Command = {
  name: 'write-downs',
  usage: 'write-downs --svc <service>',
  summary: 'write the missing down files of generated migrations (for files made by drizzle-kit directly)',
  async run({ options, out, err }) {
    const service = requireService(options.svc)
    const report = await writeDowns(service.migrationsFolder, service.schema)
    for (const file of report.written) out(`${service.name}: wrote ${path.relative(service.dir, file)}`)
    for (const file of report.missing) {
      err(
        `${service.name}: ${path.relative(service.dir, file)} is missing: its migration is custom, write the down by hand`,
      )
    }
    if (report.written.length === 0 && report.missing.length === 0)
      out(`${service.name}: every migration has its down`)
    return report.missing.length === 0 ? 0 : 1
  },
}
