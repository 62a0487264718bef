import { consoleLogger, migrate } from '@app/migrations'
import { ownerUrl, requireService } from '@app/migrations/authoring'
import { describeAdmin, openAdminDatabase } from '../admin-database.js'
import type { Command } from '../command.js'

export const migrateCommand: Command = {
  name: 'migrate',
  usage: 'migrate --svc <service>',
  summary: "apply the service's pending migrations now, as the service's own role",
  async run({ options, env, out }) {
    const service = requireService(options.svc)
    const admin = await openAdminDatabase(env, out)
    try {
      out(`${service.name}: migrating schema "${service.schema}" on ${describeAdmin(admin)}`)
      await migrate({
        url: ownerUrl(admin.url, service, env),
        schema: service.schema,
        migrationsFolder: service.migrationsFolder,
        logger: consoleLogger,
      })
      return 0
    } finally {
      await admin.release()
    }
  },
}
