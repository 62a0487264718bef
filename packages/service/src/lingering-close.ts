// An answer sent before the request's body was all read (413 over BODY_LIMIT_BYTES,
// 415, 503 while starting, a refused token on a POST) closes its connection in
// stages, as RFC 9112 §9.6 asks: the answer, then our FIN, then whatever the client
// still sends is read and dropped until it closes too (or LINGER_MS passes).
//
// Node closes such a connection at once (socket.destroySoon() once the answer is
// written). With the client's bytes still arriving, the kernel answers them with a
// reset, and a client that has not read the answer yet never does: it sees EPIPE or
// ECONNRESET instead of its 413 (a drill sending 2 MB saw this on a loaded machine).
// Fastify already says `Connection: close` when a body fails to parse; an answer from
// an onRequest hook (a refused token, 503 while starting) left a keep-alive connection
// waiting on the unread body until the request timeout. nginx (lingering_close) and
// Go's net/http close in stages too; Node has no option for it, and we found no
// Fastify plugin that does.
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** How long a closing connection keeps reading what its client still sends. */
export const LINGER_MS = 2000
/** At most this much is read and dropped; past it the connection is closed at once. */
export const LINGER_BYTES = 16 * 1024 * 1024

/** Whether the request announced a body that has not all arrived. */
function hasUnreadBody(raw: IncomingMessage): boolean {
  // `complete` is undefined on light-my-request's requests (inject): nothing to linger on.
  if (raw.complete !== false) return false
  const length = raw.headers['content-length']
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * Called for every answer, before it is written (the kit's onSend hook): when the
 * body is unread, the answer says `Connection: close` and the close is staged.
 */
export function closeLingeringIfBodyUnread(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw
  if (!hasUnreadBody(raw)) return
  reply.header('connection', 'close')
  const socket = raw.socket
  // What Node's server calls once the last answer on the connection is written.
  socket.destroySoon = () => lingeringClose(socket, raw)
}

function lingeringClose(socket: Socket, request: IncomingMessage): void {
  let dropped = 0
  const timer = setTimeout(() => socket.destroy(), LINGER_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
  // The request's parser goes on reading the body; flowing, with nobody keeping it.
  request.on('data', (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > LINGER_BYTES) socket.destroy()
  })
  request.resume()
  socket.end()
}
