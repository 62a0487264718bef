// The production logger: what it must never write.
import pino from 'pino'
import { describe, expect, test } from 'vitest'
import { loggerOptions } from '../src/index.js'

describe('production logging', () => {
  test('secrets are redacted wherever the services could log them', () => {
    const lines: string[] = []
    const options = loggerOptions({ level: 'info', name: 'demo' }, { write: (line) => lines.push(line) })
    const log = pino(options as pino.LoggerOptions, (options as { stream: pino.DestinationStream }).stream)
    log.info({ headers: { authorization: 'Bearer tok-1', cookie: 'sid=c-1' }, password: 'pw-1' }, 'a')
    log.info({ req: { headers: { authorization: 'Bearer tok-2' } }, user: { password: 'pw-2' } }, 'b')
    log.info({ password_hash: '$argon2id$h-1', passwordHash: 'h-2', access_token: 'tok-3' }, 'c')
    log.error({ err: Object.assign(new Error('query failed'), { params: ['pw-3'] }) }, 'd')
    const text = lines.join('')
    expect(lines).toHaveLength(4)
    for (const secret of ['tok-1', 'c-1', 'pw-1', 'tok-2', 'pw-2', 'h-1', 'h-2', 'tok-3', 'pw-3']) {
      expect(text).not.toContain(secret)
    }
    expect(text.match(/\[redacted\]/g)).toHaveLength(9)
    expect(text).toContain('query failed')
  })
})
