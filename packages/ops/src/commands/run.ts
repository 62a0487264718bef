import { redactUrl } from '@app/db'
import { requireService, serviceConnections, serviceRoles } from '@app/migrations/authoring'
import { describeDatabase, openAdminDatabase } from '../admin-database.js'
import type { Command } from '../command.js'
import { displayPath } from '../display-path.js'
import {
  type LogFormat,
  linePrinter,
  postgresPrinter,
  prefixedPrinter,
  wantsColor,
} from '../stack/log-format.js'
import { stopRequests, whenAborted } from '../stack/process-group.js'
import {
  assertBuilt,
  describeExit,
  developmentEnv,
  SERVICE_START_COMMAND,
  type ServiceProcess,
  serviceProcessEnv,
  startServiceProcess,
} from '../stack/service-process.js'
import { bootstrapAndReport } from './bootstrap.js'

export const runCommand: Command = {
  name: 'run',
  usage: 'run --svc <service>',
  summary: 'one instance in the foreground on $PORT, as the service role (several can run side by side)',
  ownProcessGroup: true,
  async run({ options, env, out }) {
    const service = requireService(options.svc)
    const format: LogFormat = { width: 'postgres'.length, color: wantsColor(process.stdout, env) }
    const say = linePrinter('run', 2, format, out)
    const stop = stopRequests((reason) => say(`${reason}: already stopping`))
    assertBuilt(service)

    const admin = await openAdminDatabase(env, say, {
      serverLog: postgresPrinter(1, format, out),
      bootstrap: false,
    })
    let instance: ServiceProcess | undefined
    try {
      say(`database ${describeDatabase(admin, env)}`)
      if (admin.source === 'embedded (started)') {
        say('this instance started the embedded database: it stops when this instance stops')
      }
      if (!(await bootstrapAndReport(admin.url, [service], env, say))) return 1
      const connections = serviceConnections(admin.url, service, env)
      say(
        `${service.name}: ${SERVICE_START_COMMAND.join(' ')} in ${displayPath(service.dir)}, PORT=${env.PORT || '(its default)'}, database ${redactUrl(connections.DATABASE_URL)} (migrations as ${serviceRoles(service).owner})`,
      )
      if (stop.aborted) return 0
      instance = startServiceProcess({
        service,
        env: serviceProcessEnv(env, connections, developmentEnv(env)),
        onLine: prefixedPrinter(service.name, 0, format, out),
      })
      const outcome = await Promise.race([instance.exited, whenAborted(stop).then(() => 'stopped' as const)])
      if (outcome === 'stopped') return 0
      say(`${service.name} stopped on its own (${describeExit(outcome)})`)
      return outcome.code || 1
    } finally {
      if (instance) say(`${service.name}: stopped (${describeExit(await instance.stop())})`)
      if (admin.source === 'embedded (started)') {
        await admin.release()
        say('database stopped')
      }
    }
  },
}
