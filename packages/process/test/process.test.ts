// The spawner and the readiness poll on small Node programs: no service, no database.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expect, test } from 'vitest'
import { pollUntilReady, startProcess, startServiceProcess } from '../src/index.js'

const node = (script: string, onLine?: (line: string) => void) =>
  startProcess({ command: process.execPath, args: ['-e', script], cwd: tmpdir(), env: {}, onLine })

test('every line of both streams is read before the exit is reported, the last one unterminated', async () => {
  const lines: string[] = []
  const proc = node(
    "process.stdout.write('one\\ntwo\\n'); process.stderr.write('three\\n'); process.stdout.write('last'); process.exitCode = 3",
    (line) => lines.push(line),
  )
  expect(await proc.exited).toEqual({ code: 3, signal: null })
  expect(lines.sort()).toEqual(['last', 'one', 'three', 'two'])
  expect(proc.running).toBe(false)
})

test('stop sends SIGTERM once, then SIGKILL after the grace period', async () => {
  const lines: string[] = []
  const proc = node(
    "process.on('SIGTERM', () => console.log('SIGTERM')); console.log('up'); setInterval(() => {}, 1000)",
    (line) => lines.push(line),
  )
  while (!lines.includes('up')) await new Promise((resolve) => setTimeout(resolve, 10))
  const [first, second] = await Promise.all([proc.stop({ graceMs: 300 }), proc.stop({ graceMs: 300 })])
  expect(first).toEqual({ code: null, signal: 'SIGKILL' })
  expect(second).toEqual(first)
  expect(lines).toEqual(['up', 'SIGTERM'])
})

test('a program that cannot start settles its exit and says why', async () => {
  const lines: string[] = []
  const proc = startProcess({
    command: '/nonexistent/program',
    cwd: tmpdir(),
    env: {},
    onLine: (line) => lines.push(line),
  })
  expect(await proc.exited).toEqual({ code: null, signal: null })
  expect(proc.running).toBe(false)
  expect(lines).toEqual([expect.stringMatching(/^cannot start \/nonexistent\/program: .*ENOENT/)])
})

test('a service folder: node dist/server.js, or another script; to a log file when asked', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'service-process-'))
  expect(() => startServiceProcess({ dir, env: {} })).toThrow(
    `${path.join(dir, 'dist', 'server.js')} is missing`,
  )
  mkdirSync(path.join(dir, 'dist'))
  writeFileSync(path.join(dir, 'dist', 'server.js'), "console.log('server', process.cwd())")
  writeFileSync(path.join(dir, 'floor.mjs'), "console.log('floor')")
  const logFile = path.join(dir, 'log')
  await startServiceProcess({ dir, env: {}, logFile }).exited
  await startServiceProcess({ dir, env: {}, logFile, script: 'floor.mjs' }).exited
  expect(readFileSync(logFile, 'utf8')).toBe(`server ${dir}\nfloor\n`)
})

test('pollUntilReady waits for the first 200, and gives up when its signal aborts', async () => {
  let answers = 0
  const server = createServer((_request, response) => {
    answers += 1
    response.statusCode = answers < 3 ? 503 : 200
    response.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`
  try {
    expect(await pollUntilReady(url, { intervalMs: 5 })).toBe(true)
    expect(answers).toBe(3)
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
  expect(await pollUntilReady(url, { signal: AbortSignal.timeout(100), intervalMs: 5 })).toBe(false)
})
