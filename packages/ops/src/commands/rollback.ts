import { rollback } from '@app/migrations'
import { ownerUrl, requireService, UsageError } from '@app/migrations/authoring'
import { describeAdmin, openAdminDatabase } from '../admin-database.js'
import type { Command } from '../command.js'

export function parseSteps(steps: string | undefined): number {
  if (steps === undefined || steps === '') return 1
  if (!/^[1-9][0-9]*$/.test(steps.trim())) {
    throw new UsageError(`steps must be a whole number of migrations to undo (1 or more), got '${steps}'`)
  }
  return Number(steps)
}

export const rollbackCommand: Command = {
  name: 'rollback',
  usage: 'rollback --svc <service> [--steps n]',
  summary: "undo the newest n applied migrations (default 1) with their down files, as the service's role",
  async run({ options, env, out, err }) {
    const service = requireService(options.svc)
    const steps = parseSteps(options.steps)
    const admin = await openAdminDatabase(env, out)
    try {
      out(
        `${service.name}: rolling back ${steps} migration(s) of schema "${service.schema}" on ${describeAdmin(admin)}`,
      )
      await rollback({
        url: ownerUrl(admin.url, service, env),
        schema: service.schema,
        migrationsFolder: service.migrationsFolder,
        steps,
        logger: {
          info: (_fields, message) => out(message),
          warn: (_fields, message) => err(`warning: ${message}`),
        },
      })
      return 0
    } finally {
      await admin.release()
    }
  },
}
