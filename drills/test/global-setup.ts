// One Postgres for the run (TEST_DATABASE_URL or an embedded one), a template
// database with both services' roles and schemas, each migrated as its own role,
// and a folder where every drill file leaves its figures for the final report.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { discoverServices } from '@app/migrations/authoring'
import { prepareServiceTemplate, testRunSetup } from '@app/testkit'
import type { TestProject } from 'vitest/node'
import { collectFigures, formatReport } from './support/report.js'

export default async function setup(project: TestProject) {
  const services = discoverServices()
  for (const service of services) {
    if (!existsSync(service.entry)) {
      throw new Error(
        `${service.entry} is missing: the drills start the built services (pnpm --filter @app/${service.name} build)`,
      )
    }
  }
  const reportDir = mkdtempSync(path.join(tmpdir(), 'drills-report-'))
  const teardown = await testRunSetup({
    prepare: async ({ adminUrl, prefix }) => ({
      template: await prepareServiceTemplate({ adminUrl, prefix, services, migrateAll: true }),
      reportDir,
    }),
  })(project)
  return async () => {
    try {
      console.log(`\n${formatReport(collectFigures(reportDir))}\n`)
    } finally {
      rmSync(reportDir, { recursive: true, force: true })
      await teardown()
    }
  }
}
