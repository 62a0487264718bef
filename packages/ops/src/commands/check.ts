import { discoverServices, requireService, runCheck } from '@app/migrations/authoring'
import { describeAdmin, openAdminDatabase } from '../admin-database.js'
import type { Command } from '../command.js'

export const checkCommand: Command = {
  name: 'check',
  usage: 'check [--svc <service>]',
  summary:
    'models vs migrations, migration lint, and the live schema vs its migrations (all services by default)',
  async run({ options, env, out, err }) {
    const all = discoverServices()
    const services = options.svc ? [requireService(options.svc, all)] : all
    const admin = await openAdminDatabase(env, out)
    try {
      const liveName = describeAdmin(admin)
      out(`check: ${services.map((s) => s.name).join(', ')} against ${liveName}`)
      const failures = await runCheck({
        services,
        allServices: all,
        adminUrl: admin.url,
        liveName,
        env,
        out,
        err,
      })
      out(failures === 0 ? 'check: all passed' : `check: ${failures} check(s) failed`)
      return failures === 0 ? 0 : 1
    } finally {
      await admin.release()
    }
  },
}
