// The vitest globalSetup shared by every package: one server per test run (see
// startTestServer), a run-unique database name prefix, optional per-package
// preparation (such as migrated template databases), and cleanup at the end.
import { randomBytes } from 'node:crypto'
import type {} from 'vitest'
import type { TestProject } from 'vitest/node'
import { describeTarget } from './connection-target.js'
import { dropDatabasesWithPrefix } from './scratch-databases.js'
import { startTestServer } from './test-server.js'

export interface TestRun {
  adminUrl: string
  /** Prefix of every database this run creates, e.g. `t_3fa9c1`. */
  prefix: string
  /** What the package's prepare step returned (e.g. template database names). */
  prepared: Record<string, string>
}

declare module 'vitest' {
  export interface ProvidedContext {
    testRun: TestRun
  }
}

export function testRunSetup(
  options: { prepare?: (run: Omit<TestRun, 'prepared'>) => Promise<Record<string, string>> } = {},
) {
  return async function setup(project: TestProject) {
    const server = await startTestServer()
    const prefix = `t_${randomBytes(3).toString('hex')}`
    console.log(
      `tests use Postgres at ${describeTarget(server.adminUrl)} (${server.source}), databases ${prefix}_*`,
    )
    try {
      const prepared = (await options.prepare?.({ adminUrl: server.adminUrl, prefix })) ?? {}
      project.provide('testRun', { adminUrl: server.adminUrl, prefix, prepared })
    } catch (error) {
      await dropDatabasesWithPrefix(server.adminUrl, prefix).catch(() => {})
      await server.stop()
      throw error
    }
    return async () => {
      await dropDatabasesWithPrefix(server.adminUrl, prefix)
      await server.stop()
    }
  }
}

export { startTestServer, type TestServer } from './test-server.js'
