// `make dev`: the embedded PostgreSQL (or the server DATABASE_URL names), the
// bootstrap, then every service as its own process with its own role's URL.
// Stops on a stop request or when any service dies: services first, then the
// database they were using.
import { redactUrl } from '@app/db'
import {
  discoverServices,
  type ServiceInfo,
  serviceConnections,
  serviceRoles,
} from '@app/migrations/authoring'
import { pollUntilReady } from '@app/process'
import { describeDatabase, openAdminDatabase } from '../admin-database.js'
import type { CommandContext } from '../command.js'
import { bootstrapAndReport } from '../commands/bootstrap.js'
import { displayPath } from '../display-path.js'
import { type LogFormat, linePrinter, postgresPrinter, prefixedPrinter, wantsColor } from './log-format.js'
import { assertPortFree, devPorts, portVariable } from './ports.js'
import { stopRequests, whenAborted } from './process-group.js'
import {
  assertBuilt,
  describeExit,
  developmentEnv,
  SERVICE_START_COMMAND,
  type ServiceProcess,
  serviceProcessEnv,
  startServiceProcess,
} from './service-process.js'

/** Where services listen and how this process reaches them. */
function listenHost(env: Record<string, string | undefined>): { host?: string; reach: string } {
  const host = env.HOST
  if (!host) return { reach: '127.0.0.1' }
  return { host, reach: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host }
}

export async function runDevStack({ env, out }: CommandContext): Promise<number> {
  const services = discoverServices()
  const width = Math.max('postgres'.length, ...services.map((s) => s.name.length))
  const format: LogFormat = { width, color: wantsColor(process.stdout, env) }
  const say = linePrinter('dev', services.length + 1, format, out)
  const stop = stopRequests((reason) => say(`${reason}: already stopping`))

  if (services.length === 0) throw new Error('no services: nothing under services/ has a drizzle.config.ts')
  for (const service of services) assertBuilt(service)
  const ports = devPorts(services, env)
  const { host, reach } = listenHost(env)
  for (const [name, port] of ports) await assertPortFree(port, host ?? '127.0.0.1', portVariable(name))
  const baseUrls = new Map(services.map((s) => [s.name, `http://${reach}:${ports.get(s.name)}`]))

  const admin = await openAdminDatabase(env, say, {
    serverLog: postgresPrinter(services.length, format, out),
    bootstrap: false,
  })
  const running: { service: ServiceInfo; instance: ServiceProcess }[] = []
  const polling = new AbortController()
  let code = 0
  try {
    say(`database ${describeDatabase(admin, env)}`)
    if (!(await bootstrapAndReport(admin.url, services, env, say))) return 1
    // Every service learns where the others are (billing calls auth at AUTH_URL).
    const urls = Object.fromEntries(
      services.map((s) => [`${s.name.toUpperCase()}_URL`, baseUrls.get(s.name)!]),
    )
    // The other services' docs pages post their Authorize form to auth, from their own
    // origins: auth answers CORS for each, on the port it got here (unless set).
    const docsOrigins = [...ports]
      .filter(([name]) => name !== 'auth')
      .flatMap(([, port]) => [`http://localhost:${port}`, `http://127.0.0.1:${port}`])
    const authCors =
      env.AUTH_CORS_ORIGINS || docsOrigins.length === 0 ? {} : { AUTH_CORS_ORIGINS: docsOrigins.join(',') }
    if (stop.aborted) return 0
    for (const [index, service] of services.entries()) {
      const connections = serviceConnections(admin.url, service, env)
      const port = ports.get(service.name)!
      say(
        `${service.name}: ${SERVICE_START_COMMAND.join(' ')} in ${displayPath(service.dir)}, port ${port}, database ${redactUrl(connections.DATABASE_URL)} (migrations as ${serviceRoles(service).owner})`,
      )
      running.push({
        service,
        instance: startServiceProcess({
          service,
          env: serviceProcessEnv(env, connections, {
            ...developmentEnv(env),
            ...urls,
            ...authCors,
            PORT: String(port),
            HOST: host,
          }),
          onLine: prefixedPrinter(service.name, index, format, out),
        }),
      })
    }
    const firstExit = Promise.race(
      running.map(({ service, instance }) => instance.exited.then((result) => ({ service, result }))),
    )
    const watching = AbortSignal.any([stop, polling.signal])
    const allReady = Promise.all(
      running.map(({ service }) =>
        pollUntilReady(`${baseUrls.get(service.name)}/readyz`, { signal: watching, intervalMs: 200 }),
      ),
    )
    const stopped = whenAborted(stop).then(() => 'stopped' as const)
    let outcome = await Promise.race([
      firstExit,
      allReady.then((ready) => (ready.every(Boolean) ? ('ready' as const) : ('stopped' as const))),
      stopped,
    ])
    if (outcome === 'ready') {
      say(`ready: ${services.map((s) => `${baseUrls.get(s.name)}/docs (${s.name})`).join('  ')}`)
      say('Ctrl-C stops everything')
      outcome = await Promise.race([firstExit, stopped])
    }
    if (outcome !== 'stopped') {
      say(`${outcome.service.name} stopped on its own (${describeExit(outcome.result)}): stopping everything`)
      code = 1
    }
  } finally {
    polling.abort()
    await Promise.all(
      running.map(async ({ service, instance }) => {
        const result = await instance.stop()
        say(`${service.name}: stopped (${describeExit(result)})`)
      }),
    )
    if (admin.source === 'embedded (started)') {
      await admin.release()
      say('database stopped')
    }
  }
  return code
}
