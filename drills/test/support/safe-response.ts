// What a response to any request, however hostile, must look like: no 5xx, the
// shared error shape for errors, and nothing of the service's insides (a stack
// trace, a file path, a driver message, a password hash).
import { repoRoot } from '@app/migrations/authoring'

// Each names what it catches, for the failure message.
const LEAKS: [string, RegExp][] = [
  ['a stack frame', /\n\s*at \S.*:\d+:\d+\)?/],
  ['a stack frame', /\bat (?:async )?\S+ \((?:file:\/\/|node:|\/)[^)]*:\d+:\d+\)/],
  ['a Node internal', /node:internal|\binternal\/(?:modules|process)\//],
  ['a dependency path', /node_modules/],
  ['the repository path', new RegExp(escapeRegExp(repoRoot()))],
  ['the bundle path', /dist\/server\.js|\.ts:\d+:\d+/],
  ['a password hash', /\$argon2(?:id|i|d)\$/],
  [
    'a database error',
    /violates (?:unique|foreign key|not-null|check) constraint|syntax error at or near|invalid input syntax for|invalid byte sequence for encoding|unsupported Unicode escape sequence|relation "[^"]+" does not exist|permission denied for/,
  ],
  ['a driver error', /\bECONNREFUSED\b|DrizzleQueryError|Failed query:/],
]

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export interface Checked {
  status: number
  text: string
  headers?: Headers | string
}

/** Problems with a response (empty when it is fine). `sent` is the request as text, so an echoed input is not taken for a leak. */
export function responseProblems(response: Checked, sent: string) {
  const problems: string[] = []
  if (response.status >= 500) problems.push(`answered ${response.status}`)
  if (response.status === 0) problems.push('no HTTP answer')
  const headerText =
    typeof response.headers === 'string'
      ? response.headers
      : [...(response.headers?.entries() ?? [])].map(([k, v]) => `${k}: ${v}`).join('\n')
  for (const [what, pattern] of LEAKS) {
    for (const [where, text] of [
      ['body', response.text],
      ['headers', headerText],
    ] as const) {
      const match = pattern.exec(text)
      if (match && !sent.includes(match[0]))
        problems.push(`${where} shows ${what}: ${JSON.stringify(match[0])}`)
    }
  }
  // Node's HTTP parser answers a request it cannot parse (431 for oversized headers,
  // 400 for broken framing) before Fastify sees it: that body is Fastify's default
  // clientError one, without `code`, and carries no x-request-id. Everything the app
  // answers must have the shared shape.
  if (response.status >= 400 && response.text.length > 0 && answeredByApp(headerText)) {
    const body = parseJson(response.text)
    if (
      !body ||
      body.statusCode !== response.status ||
      typeof body.code !== 'string' ||
      typeof body.message !== 'string'
    ) {
      problems.push(
        `error body is not { statusCode, code, message, details }: ${response.text.slice(0, 300)}`,
      )
    }
  }
  return problems
}

function answeredByApp(headers: string): boolean {
  return /^x-request-id: /im.test(headers)
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
