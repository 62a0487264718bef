// The request's log line (request-line.ts) is built by the kit from pino's parts: it must
// be, byte for byte, the line pino writes for the same fields on the request's logger,
// and where it could not be, pino must write it.
import Fastify, { type FastifyServerOptions } from 'fastify'
import type pino from 'pino'
import { describe, expect, test } from 'vitest'
import { loggerOptions } from '../src/logging.js'
import { requestFields, requestLineWriter } from '../src/request-line.js'

/** A fixed timestamp (pino's `timestamp` option), so two writes of one line are comparable. */
const FIXED_TIME = () => ',"time":1796205622164'

/**
 * An app whose every answer is logged twice, by the writer and by pino itself with the
 * same fields on the request's own logger: `pairs()` returns [writer's, pino's] lines.
 */
async function appWithBothLines(options: { level?: string; extra?: pino.LoggerOptions } = {}) {
  const lines: string[] = []
  const base = loggerOptions(
    { level: options.level ?? 'info', name: 'demo' },
    { write: (l) => lines.push(l) },
  )
  const app = Fastify({
    logger: {
      ...(base as pino.LoggerOptions),
      timestamp: FIXED_TIME,
      ...options.extra,
    } as FastifyServerOptions['logger'],
  })
  const writeLine = requestLineWriter(app.log)
  app.addHook('onResponse', (request, reply, done) => {
    const level = reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'warn' : 'info'
    writeLine(request, reply, level)
    if ((request.log as pino.Logger).isLevelEnabled(level))
      request.log[level](requestFields(request, reply), 'request')
    done()
  })
  app.get('/ok', async () => ({ ok: true }))
  app.get('/missing', async (_request, reply) => reply.code(404).send({ ok: false }))
  app.get('/boom', async () => {
    throw new Error('boom')
  })
  await app.ready()
  const pairs = () => {
    const requestLines = lines.filter((line) => line.includes('"msg":"request"'))
    return Array.from({ length: requestLines.length / 2 }, (_, i) => [
      requestLines[2 * i],
      requestLines[2 * i + 1],
    ])
  }
  return { app, writeLine, lines, pairs }
}

describe('the request log line', () => {
  test("is pino's line, byte for byte, at every level and for URLs pino escapes", async () => {
    const { app, writeLine, pairs } = await appWithBothLines()
    expect(writeLine.direct).toBe(true)
    const urls = [
      '/ok',
      '/ok?name="quoted"&path=a\\b',
      '/ok?x=%22%5C',
      // Longer than 42 characters: pino switches to JSON.stringify there.
      `/ok?long=${'a'.repeat(60)}"end`,
      '/missing',
      '/boom',
      '/nowhere',
    ]
    for (const url of urls) await app.inject(url)
    const logged = pairs()
    expect(logged).toHaveLength(urls.length)
    for (const [ours, pinos] of logged) expect(ours).toBe(pinos)
    expect(logged.map(([line]) => JSON.parse(line!).level)).toEqual([30, 30, 30, 30, 40, 50, 40])
    expect(JSON.parse(logged[0]![0]!)).toEqual({
      level: 30,
      time: 1796205622164,
      pid: process.pid,
      hostname: expect.any(String),
      name: 'demo',
      reqId: expect.any(String),
      method: 'GET',
      url: '/ok',
      statusCode: 200,
      ms: expect.any(Number),
      msg: 'request',
    })
    await app.close()
  })

  test("writes nothing below the logger's level", async () => {
    const { app, lines } = await appWithBothLines({ level: 'warn' })
    await app.inject('/ok')
    await app.inject('/missing')
    const requestLines = lines
      .filter((line) => line.includes('"msg":"request"'))
      .map((line) => JSON.parse(line))
    expect(requestLines.map((line) => line.url)).toEqual(['/missing', '/missing'])
    await app.close()
  })

  test('leaves the line to pino where its own would differ, and the lines still match', async () => {
    for (const extra of [
      { mixin: () => ({ zone: 'a' }) },
      { redact: { paths: ['url'], censor: '[redacted]' } },
      { formatters: { log: (fields: Record<string, unknown>) => ({ ...fields, extra: true }) } },
      { messageKey: 'message' },
    ] as pino.LoggerOptions[]) {
      const { app, writeLine, lines } = await appWithBothLines({ extra })
      expect(writeLine.direct).toBe(false)
      await app.inject('/ok')
      const requestLines = lines.filter((line) => line.includes('"request"'))
      expect(requestLines).toHaveLength(2)
      expect(requestLines[0]).toBe(requestLines[1])
      await app.close()
    }
  })

  test('with no logger at all (logger: false), writes nothing and does not fail', async () => {
    const app = Fastify({ logger: false })
    const writeLine = requestLineWriter(app.log)
    expect(writeLine.direct).toBe(false)
    app.addHook('onResponse', (request, reply, done) => {
      writeLine(request, reply, 'info')
      done()
    })
    app.get('/ok', async () => ({ ok: true }))
    expect((await app.inject('/ok')).statusCode).toBe(200)
    await app.close()
  })
})
