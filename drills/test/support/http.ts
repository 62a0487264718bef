// The drills' HTTP client: every request is counted for the report. `send` is
// fetch (what API clients use); `sendRaw` writes bytes on a socket, for requests
// fetch refuses to build (bad Content-Length, odd header bytes).
import net from 'node:net'
import { Agent } from 'undici'
import { figures } from './figures.js'

// At most this many connections to one origin; further requests wait in the pool's
// queue. fetch's default dispatcher opens one per request in flight, without limit,
// and looks for a free one by scanning them all: once a slow machine fell behind the
// rolling restart drill's open-loop load, the drill's own process spent 88% of its
// CPU in that scan, fell further behind, and never caught up. No drill sends more
// than 50 at once through send().
const dispatcher = new Agent({ connections: 64 })

export interface DrillRequest {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string | Buffer
  /** Built to be hostile (counted apart in the report). */
  hostile?: boolean
}

export interface DrillResponse {
  status: number
  headers: Headers
  text: string
  json<T = Record<string, unknown>>(): T
}

export async function send(baseUrl: string, request: DrillRequest): Promise<DrillResponse> {
  figures.requests += 1
  if (request.hostile) figures.hostileRequests += 1
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    redirect: 'manual',
    // Node's fetch takes undici's dispatcher option (not in the DOM's RequestInit).
    dispatcher,
  } as RequestInit)
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  }
}

export function json(value: unknown): { headers: Record<string, string>; body: string } {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) }
}

export function form(fields: Record<string, string>): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  }
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

export interface RawResponse {
  status: number
  head: string
  body: string
}

/** Writes `bytes` as they are and reads the answer until the server closes. */
export async function sendRaw(port: number, bytes: string | Buffer): Promise<RawResponse> {
  figures.requests += 1
  figures.hostileRequests += 1
  const text = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes))
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    // A server refusing a request may reset the connection right after its answer.
    socket.on('error', (error) =>
      chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(error),
    )
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
    // The server answers and closes (Connection: close, or a parse error); a request
    // it is still waiting on is ended here so the drill never hangs.
    socket.setTimeout(10_000, () => socket.end())
  })
  const split = text.indexOf('\r\n\r\n')
  const head = split === -1 ? text : text.slice(0, split)
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
  return { status, head, body: split === -1 ? '' : text.slice(split + 4) }
}

/** An HTTP/1.1 request with a correct Content-Length, unless `contentLength` overrides it. */
export function rawRequest(options: {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string | Buffer
  contentLength?: number
}): Buffer {
  const body =
    typeof options.body === 'string' ? Buffer.from(options.body) : (options.body ?? Buffer.alloc(0))
  const headers = {
    host: 'drills',
    connection: 'close',
    ...(options.body !== undefined || options.contentLength !== undefined
      ? { 'content-length': String(options.contentLength ?? body.length) }
      : {}),
    ...options.headers,
  }
  const head = `${options.method} ${options.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}
