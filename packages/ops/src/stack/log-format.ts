// Turns the services' pino JSON lines into `auth      12:00:01 INFO  message`
// for a terminal. Lines that are not JSON (a crash before the logger exists,
// postgres's own output) pass through unchanged behind the same prefix.

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}

// pino's own fields, and the request fields that the one-line request summary already shows.
const SHOWN_ELSEWHERE = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v', 'err', 'reqId'])
const REQUEST_FIELDS = ['method', 'url', 'statusCode', 'ms']

const COLORS = { reset: '\x1b[0m', dim: '\x1b[2m', red: '\x1b[31m', yellow: '\x1b[33m', magenta: '\x1b[35m' }
const PREFIX_COLORS = ['\x1b[36m', '\x1b[32m', '\x1b[34m', '\x1b[35m', '\x1b[33m']

export interface LogFormat {
  /** Width the prefixes are padded to (the longest name). */
  width: number
  color: boolean
}

export function clock(date: Date): string {
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':')
}

function levelName(level: unknown): string {
  if (typeof level === 'number') return LEVELS[level] ?? String(level)
  return typeof level === 'string' ? level.toUpperCase() : 'INFO'
}

function paint(text: string, color: string | undefined, format: LogFormat): string {
  return format.color && color ? `${color}${text}${COLORS.reset}` : text
}

function levelColor(level: string): string | undefined {
  if (level === 'WARN') return COLORS.yellow
  if (level === 'ERROR') return COLORS.red
  if (level === 'FATAL') return COLORS.magenta
  if (level === 'DEBUG' || level === 'TRACE') return COLORS.dim
  return undefined
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Math.round(v * 10) / 10)
  return JSON.stringify(v)
}

/** The readable form of one pino line, or undefined when it is not one. */
export function formatPinoLine(line: string, format: LogFormat): string[] | undefined {
  if (!line.startsWith('{')) return undefined
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof entry !== 'object' || entry === null || !('level' in entry)) return undefined
  const level = levelName(entry.level)
  const time = typeof entry.time === 'number' ? clock(new Date(entry.time)) : clock(new Date())
  const isRequest = entry.msg === 'request' && REQUEST_FIELDS.every((field) => field in entry)
  const message = isRequest
    ? `${entry.method} ${entry.url} ${entry.statusCode} ${entry.ms} ms`
    : String(entry.msg ?? '')
  // Fields whose value the message already shows (schema=auth in "auth: applied ...") are left out.
  const extras = Object.entries(entry)
    .filter(([key]) => !SHOWN_ELSEWHERE.has(key) && !(isRequest && REQUEST_FIELDS.includes(key)))
    .filter(([, v]) => !(typeof v !== 'object' && message.includes(value(v))))
    .map(([key, v]) => `${key}=${value(v)}`)
  // Request ids matter when something went wrong; on every info line they are noise.
  if (entry.reqId !== undefined && (level === 'WARN' || level === 'ERROR' || level === 'FATAL')) {
    extras.push(`reqId=${value(entry.reqId)}`)
  }
  const head = `${paint(time, COLORS.dim, format)} ${paint(level.padEnd(5), levelColor(level), format)} ${message}`
  const lines = [extras.length ? `${head} ${paint(extras.join(' '), COLORS.dim, format)}` : head]
  const err = entry.err as { message?: string; stack?: string } | undefined
  if (err && typeof err === 'object') {
    const detail = err.stack ?? err.message
    if (detail)
      lines.push(
        ...String(detail)
          .split('\n')
          .map((l) => `    ${l}`),
      )
  }
  return lines
}

/** A function that prints every line of one process behind its name. */
export function prefixedPrinter(
  name: string,
  index: number,
  format: LogFormat,
  write: (line: string) => void,
): (line: string) => void {
  const prefix = paint(name.padEnd(format.width), PREFIX_COLORS[index % PREFIX_COLORS.length], format)
  return (line) => {
    for (const formatted of formatPinoLine(line, format) ?? [line]) write(`${prefix}  ${formatted}`)
  }
}

/** A printer for one source of lines; multi-line chunks (postgres's) become one prefixed line each. */
export function linePrinter(
  name: string,
  index: number,
  format: LogFormat,
  write: (line: string) => void,
): (text: string) => void {
  const print = prefixedPrinter(name, index, format, write)
  return (text) => {
    for (const line of text.split('\n')) if (line.trim()) print(line)
  }
}

// `2026-11-22 08:33:33.739 UTC [17980] LOG:  database system is shut down`
const POSTGRES_LINE = /^\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d)(?:\.\d+)? \S+ \[\d+\] ([A-Z]+\d?):\s+(.*)$/
const POSTGRES_WORTH_SHOWING = /ready to accept connections|shutdown request|database system is shut down/

/**
 * The embedded server's lines worth a developer's attention, formatted like the
 * services' (`08:33:33 LOG   database system is shut down`): problems, and the
 * moments it is ready and stopped. initdb's chatter and checkpoints are left out.
 */
export function formatPostgresLine(line: string, format: LogFormat): string | undefined {
  const match = POSTGRES_LINE.exec(line)
  if (!match) return /error|fatal|failed|could not|panic/i.test(line) ? line : undefined
  const [, time, level, message] = match as unknown as [string, string, string, string]
  const problem = /^(WARNING|ERROR|FATAL|PANIC)$/.test(level)
  if (!problem && !POSTGRES_WORTH_SHOWING.test(message)) return undefined
  const color = level === 'WARNING' ? COLORS.yellow : problem ? COLORS.red : undefined
  return `${paint(time, COLORS.dim, format)} ${paint(level.padEnd(5), color, format)} ${message}`
}

/** Like linePrinter, for the embedded PostgreSQL's output. */
export function postgresPrinter(
  index: number,
  format: LogFormat,
  write: (line: string) => void,
): (text: string) => void {
  const prefix = paint('postgres'.padEnd(format.width), PREFIX_COLORS[index % PREFIX_COLORS.length], format)
  return (text) => {
    for (const line of text.split('\n')) {
      const formatted = formatPostgresLine(line.trimEnd(), format)
      if (formatted) write(`${prefix}  ${formatted}`)
    }
  }
}

export function wantsColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb'
}
