import { describe, expect, test } from 'vitest'
import {
  clock,
  formatPinoLine,
  formatPostgresLine,
  type LogFormat,
  prefixedPrinter,
} from '../src/stack/log-format.js'

const plain: LogFormat = { width: 8, color: false }
const time = new Date(2026, 0, 2, 9, 5, 7).getTime()
const pino = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time, pid: 1, hostname: 'h', name: 'auth', ...fields })

describe('service log lines', () => {
  test('a message becomes `time LEVEL message`, behind the padded service name', () => {
    const lines: string[] = []
    prefixedPrinter('auth', 0, plain, (line) => lines.push(line))(pino({ msg: 'auth: ready on http://x' }))
    expect(lines).toEqual(['auth      09:05:07 INFO  auth: ready on http://x'])
    expect(clock(new Date(time))).toBe('09:05:07')
  })

  test('request lines read like an access log; the request id only shows on problems', () => {
    const request = { msg: 'request', method: 'GET', url: '/readyz', statusCode: 200, ms: 1.25, reqId: 'r-1' }
    expect(formatPinoLine(pino(request), plain)).toEqual(['09:05:07 INFO  GET /readyz 200 1.25 ms'])
    expect(formatPinoLine(pino({ ...request, level: 40, statusCode: 404 }), plain)).toEqual([
      '09:05:07 WARN  GET /readyz 404 1.25 ms reqId=r-1',
    ])
  })

  test('other fields follow as key=value, unless the message already shows them', () => {
    const line = pino({
      msg: 'auth: applied 0001_a.sql in 5.6 ms',
      migration: '0001_a.sql',
      durationMs: 5.61,
      kid: 'k 1',
    })
    expect(formatPinoLine(line, plain)).toEqual([
      '09:05:07 INFO  auth: applied 0001_a.sql in 5.6 ms kid="k 1"',
    ])
  })

  test('errors bring their stack, indented', () => {
    const line = pino({
      level: 60,
      msg: 'cannot start',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
    })
    expect(formatPinoLine(line, plain)).toEqual([
      '09:05:07 FATAL cannot start',
      '    Error: boom',
      '        at x',
    ])
  })

  test('anything else passes through as it is', () => {
    const lines: string[] = []
    prefixedPrinter('billing', 1, plain, (line) => lines.push(line))('node:internal/modules crash {')
    expect(lines).toEqual(['billing   node:internal/modules crash {'])
    expect(formatPinoLine('{"not": "pino"}', plain)).toBeUndefined()
  })

  test('colours only when asked', () => {
    const [line] = formatPinoLine(pino({ level: 50, msg: 'x' }), { width: 8, color: true })!
    expect(line).toContain('\x1b[31mERROR\x1b[0m')
  })
})

describe('embedded PostgreSQL lines', () => {
  const line = (level: string, message: string) => `2026-11-22 08:33:33.739 UTC [17980] ${level}:  ${message}`

  test('keeps problems and the moments it is ready and stopped, in the services format', () => {
    expect(formatPostgresLine(line('LOG', 'database system is ready to accept connections'), plain)).toBe(
      '08:33:33 LOG   database system is ready to accept connections',
    )
    expect(formatPostgresLine(line('FATAL', 'password authentication failed for user "auth"'), plain)).toBe(
      '08:33:33 FATAL password authentication failed for user "auth"',
    )
  })

  test("leaves out checkpoints and initdb's chatter", () => {
    expect(formatPostgresLine(line('LOG', 'checkpoint starting: time'), plain)).toBeUndefined()
    expect(formatPostgresLine('creating subdirectories ... ok', plain)).toBeUndefined()
    expect(formatPostgresLine('initdb: error: directory "x" exists but is not empty', plain)).toBe(
      'initdb: error: directory "x" exists but is not empty',
    )
  })
})
