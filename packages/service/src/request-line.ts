// The one log line each request gets, written in pino's own layout from pino's own
// parts: the level's prefix, the timestamp function, the logger's bindings, its line
// ending and its stream, read once from the app's root logger through pino.symbols
// (which pino exposes for integrations that need speed). Only the line's fields,
// which the kit chooses, are formatted here.
//
// Why not `request.log.info(fields, 'request')`: measured out of process at a fixed
// request rate, in turns with the bare route (bench/README.md's log), pino's call on
// Fastify's per-request child logger cost 20-40 µs of CPU per request, the largest
// part of what the service added to a DB read; the same line built here cost too
// little to tell from no line at all. In a tight loop both take under 1 µs, so the
// cost is not pino's formatting as such but how it runs in the service, where every
// request's logger is a new object. A test holds the line byte-identical to pino's.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import pino from 'pino'

const {
  asJsonSym,
  chindingsSym,
  endSym,
  hooksSym,
  lsCacheSym,
  mixinSym,
  needsMetadataGsym,
  streamSym,
  timeSym,
} = pino.symbols

type Level = 'info' | 'warn' | 'error'
const LEVEL_VALUES: Record<Level, number> = { info: 30, warn: 40, error: 50 }

export interface RequestLineWriter {
  (request: FastifyRequest, reply: FastifyReply, level: Level): void
  /** True when the kit builds the line itself, false when pino does. */
  readonly direct: boolean
}

/**
 * A writer for `logger` (the app's root logger). Where the line could differ from what
 * pino would write (a logger that is not pino, as with `logger: false`; a mixin, a
 * stream hook, a stream that routes by level; redaction or formatters that touch these
 * fields, found by formatting a probe line both ways), it goes through `request.log`.
 */
export function requestLineWriter(logger: FastifyBaseLogger): RequestLineWriter {
  const throughPino = Object.assign(
    (request: FastifyRequest, reply: FastifyReply, level: Level) =>
      request.log[level](requestFields(request, reply), 'request'),
    { direct: false },
  )
  const root = logger as unknown as Record<symbol, unknown>
  const stream = root[streamSym] as Record<string | symbol, unknown> | undefined
  if (
    typeof root[timeSym] !== 'function' ||
    typeof stream?.write !== 'function' ||
    stream[needsMetadataGsym] === true ||
    root[mixinSym] ||
    (root[hooksSym] as { streamWrite?: unknown } | undefined)?.streamWrite
  ) {
    return throughPino
  }
  const time = (root[timeSym] as () => string).bind(root)
  const write = (stream.write as (line: string) => void).bind(stream)
  const levelPrefix = root[lsCacheSym] as Record<number, string>
  const end = root[endSym] as string
  const line = (level: number, timePart: string, reqId: string, fields: ReturnType<typeof requestFields>) =>
    // chindings: the root's bindings (pid, hostname, name), read each time as pino does.
    `${levelPrefix[level]}${timePart}${root[chindingsSym] as string},"reqId":${JSON.stringify(reqId)}` +
    `,"method":${JSON.stringify(fields.method)},"url":${JSON.stringify(fields.url)}` +
    `,"statusCode":${fields.statusCode},"ms":${fields.ms},"msg":"request"${end}`

  const probe = { method: 'GET', url: '/probe/"quoted"\\path?q=1', statusCode: 200, ms: 1.5 }
  const probeChild = (logger as pino.Logger).child({ reqId: 'probe' }) as unknown as Record<symbol, unknown>
  const pinoLine = (probeChild[asJsonSym] as (...args: unknown[]) => string).call(
    probeChild,
    probe,
    'request',
    LEVEL_VALUES.info,
    ',"time":0',
  )
  if (pinoLine !== line(LEVEL_VALUES.info, ',"time":0', 'probe', probe)) return throughPino

  return Object.assign(
    (request: FastifyRequest, reply: FastifyReply, level: Level) => {
      // The request's own logger decides (a route's logLevel may differ from the root's).
      if (!(request.log as pino.Logger).isLevelEnabled(level)) return
      write(line(LEVEL_VALUES[level], time(), request.id, requestFields(request, reply)))
    },
    { direct: true },
  )
}

/** The fields of the line, as pino is given them where the writer cannot format them itself. */
export function requestFields(request: FastifyRequest, reply: FastifyReply) {
  return { method: request.method, url: request.url, statusCode: reply.statusCode, ms: elapsedMs(reply) }
}

function elapsedMs(reply: FastifyReply): number {
  return Math.round(reply.elapsedTime * 10) / 10
}
