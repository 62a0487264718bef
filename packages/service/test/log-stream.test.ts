// The services' log stream (log-stream.ts) in a process of its own, as production
// runs it: every line out, in order, whichever way the process ends, and the lines of
// one event-loop turn in a few writes rather than one each.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

const MODULE = fileURLToPath(new URL('../dist/log-stream.js', import.meta.url))

/**
 * Runs `body` in a new node process, with `stream` (turnBatchedStdout()) and
 * `writes()` (the process's write system calls so far, from /proc/self/io) in scope.
 */
function run(body: string) {
  const script = `import fs from 'node:fs'
import { turnBatchedStdout } from ${JSON.stringify(MODULE)}
const stream = turnBatchedStdout()
const writes = () => Number(/syscw: (\\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))[1])
${body}`
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
}

const lines = (count: number) => Array.from({ length: count }, (_, i) => `{"msg":"line ${i}"}\n`).join('')

describe('turnBatchedStdout', () => {
  test('lines logged just before process.exit are written, in order', () => {
    const child = run(`for (let i = 0; i < 1000; i++) stream.write('{"msg":"line ' + i + '"}\\n')
process.exit(3)`)
    expect(child.status).toBe(3)
    expect(child.stdout).toBe(lines(1000))
  })

  test('lines logged before an uncaught exception are written', () => {
    const child = run(`setTimeout(() => {
  for (let i = 0; i < 10; i++) stream.write('{"msg":"line ' + i + '"}\\n')
  throw new Error('boom')
}, 1)`)
    expect(child.status).toBe(1)
    expect(child.stderr).toContain('boom')
    expect(child.stdout).toBe(lines(10))
  })

  test("one turn's lines go out together, at the end of the turn", () => {
    const child = run(`const before = writes()
for (let i = 0; i < 1000; i++) stream.write('{"msg":"line ' + i + '"}\\n')
const inTurn = writes() - before
await new Promise((resolve) => setImmediate(() => setImmediate(resolve)))
console.error(JSON.stringify({ inTurn, afterTurn: writes() - before }))`)
    expect(child.status, child.stderr).toBe(0)
    expect(child.stdout).toBe(lines(1000))
    const counts = JSON.parse(child.stderr.trim().split('\n').at(-1)!) as {
      inTurn: number
      afterTurn: number
    }
    // Nothing written while the turn logs; then about 20 KB in SonicBoom's writes of at most 16 KB.
    expect(counts.inTurn).toBe(0)
    expect(counts.afterTurn).toBeGreaterThan(0)
    expect(counts.afterTurn).toBeLessThanOrEqual(4)
  })
})
