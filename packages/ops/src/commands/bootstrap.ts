import {
  type BootstrapResult,
  bootstrapServices,
  discoverServices,
  passwordVariable,
  roleUrl,
  type ServiceInfo,
  serviceRoles,
} from '@app/migrations/authoring'
import pg from 'pg'
import { describeAdmin, openAdminDatabase } from '../admin-database.js'
import type { Command } from '../command.js'

export function describeBootstrap(result: BootstrapResult): string {
  const { owner, runtime } = serviceRoles({ name: result.service })
  const roles = [owner, runtime]
    .map((role) =>
      result.createdRoles.includes(role)
        ? `role ${role} created`
        : `role ${role} existed (password unchanged)`,
    )
    .join(', ')
  const schema = result.createdSchema ? 'schema created' : 'schema existed'
  return `${result.service}: ${roles}, ${schema}, owner ${owner}, ${runtime} DML only; no CREATE on public`
}

/** Null when the role logs in with the password its service will use, else why not. */
export async function loginProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  try {
    await client.connect()
    return null
  } catch (error) {
    return (error as Error).message
  } finally {
    await client.end().catch(() => {})
  }
}

/** Bootstraps, then says for each service role whether it can log in with its password. */
export async function bootstrapAndReport(
  adminUrl: string,
  services: ServiceInfo[],
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<boolean> {
  let ok = true
  for (const result of await bootstrapServices(adminUrl, services, env)) {
    out(describeBootstrap(result))
    const service = services.find((s) => s.name === result.service)!
    for (const role of Object.values(serviceRoles(service))) {
      const problem = await loginProblem(roleUrl(adminUrl, role, env))
      if (!problem) continue
      ok = false
      out(
        `${service.name}: cannot log in as role "${role}" (${problem}); the role keeps the password it was created with: set ${passwordVariable(role)} to it, or ALTER ROLE ${role} PASSWORD '...'`,
      )
    }
  }
  return ok
}

export const bootstrapCommand: Command = {
  name: 'bootstrap',
  usage: 'bootstrap',
  summary:
    'create each service role and the schema it owns (idempotent; infra/postgres/bootstrap-service.sql)',
  async run({ env, out }) {
    const services = discoverServices()
    const admin = await openAdminDatabase(env, out, { bootstrap: false })
    try {
      out(`bootstrap: ${services.map((s) => s.name).join(', ')} on ${describeAdmin(admin)}`)
      return (await bootstrapAndReport(admin.url, services, env, out)) ? 0 : 1
    } finally {
      await admin.release()
    }
  },
}
