// make new-service's tool runner, on real processes: quiet on success, the output on
// failure, and a tool that never finishes stopped at the limit instead of waited for
// (without the limit the third test would never end: the runner's own timeout fails it).
import { expect, test } from 'vitest'
import { runTool } from '../src/new-service/run-tool.js'

function collect() {
  const lines: string[] = []
  return { lines, err: (line: string) => lines.push(line) }
}

test('a tool that succeeds: true, nothing printed', async () => {
  const { lines, err } = collect()
  expect(await runTool(process.cwd(), process.execPath, ['-e', 'console.log("linked")'], err)).toBe(true)
  expect(lines).toEqual([])
})

test('a tool that fails: false, and what it said', async () => {
  const { lines, err } = collect()
  const script = 'console.log("resolving"); console.error("ERR_PNPM_OUTDATED_LOCKFILE"); process.exit(1)'
  expect(await runTool(process.cwd(), process.execPath, ['-e', script], err)).toBe(false)
  expect(lines).toEqual(['  resolving', '  ERR_PNPM_OUTDATED_LOCKFILE'])
})

test('a tool that hangs: stopped at the limit, false, with what it said and why', async () => {
  const { lines, err } = collect()
  const script = 'console.log("Progress: resolved 1"); setInterval(() => {}, 1000)'
  const ok = await runTool(process.cwd(), process.execPath, ['-e', script], err, 1500)
  expect(ok).toBe(false)
  expect(lines[0]).toBe('  Progress: resolved 1')
  expect(lines[1]).toMatch(/: not done after 1\.5 s, stopped$/)
})

test('a command that does not exist: false, naming it', async () => {
  const { lines, err } = collect()
  expect(await runTool(process.cwd(), '/nonexistent/pnpm', ['install'], err)).toBe(false)
  expect(lines).toEqual(['/nonexistent/pnpm: spawn /nonexistent/pnpm ENOENT'])
})
