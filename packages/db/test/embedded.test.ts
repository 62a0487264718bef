import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

test("an embedded PostgreSQL leaves the process's exit code alone (a failing test run must not exit 0)", () => {
  const script = fileURLToPath(new URL('./fixtures/embedded-exit-code.mjs', import.meta.url))
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 })
  expect(run.stderr).not.toMatch(/Error/)
  expect(run.status).toBe(3)
})
