// For services' test setups: a template database where the service's role and
// schema are bootstrapped and its migrations applied as that role, exactly as in
// production. Each test file then clones it (createScratchDatabase with `template`).

import { createScratchDatabase } from '@app/db'
import { migrate } from '@app/migrations'
import type { Env, ServiceInfo } from '@app/migrations/authoring'
import { bootstrapServices, ownerUrl } from '@app/migrations/authoring'
import pg from 'pg'

export async function prepareServiceTemplate(options: {
  adminUrl: string
  prefix: string
  /** The services whose roles and schemas the template holds; the first is migrated. */
  services: ServiceInfo[]
  /** Also apply these services' migrations (e.g. auth, for billing's end-to-end tests). */
  migrateAll?: boolean
  env?: Env
}): Promise<string> {
  const env = options.env ?? {}
  const [first] = options.services
  if (!first) throw new Error('prepareServiceTemplate needs at least one service')
  const database = await createScratchDatabase(options.adminUrl, {
    prefix: `${options.prefix}_${first.name}_tpl`,
  })
  await bootstrapServices(database.url, options.services, env)
  for (const service of options.migrateAll ? options.services : [first]) {
    await migrate({
      url: ownerUrl(database.url, service, env),
      schema: service.schema,
      migrationsFolder: service.migrationsFolder,
    })
  }
  const admin = new pg.Client({ connectionString: options.adminUrl })
  await admin.connect()
  try {
    await admin.query(`ALTER DATABASE "${database.name}" WITH IS_TEMPLATE true`)
  } finally {
    await admin.end()
  }
  return database.name
}
