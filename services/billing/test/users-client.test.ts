// The client billing asks auth with (GET /auth/users/{id}), against a real HTTP
// server standing in for auth: what each kind of answer, or its absence, becomes.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createAuthUsersClient } from '../src/auth/users-client.js'

const USER = '0b8f6d5e-3c1a-4f7e-9d2b-6a4c8e1f2a3b'
let url: string
const server = http.createServer((request, response) => {
  const id = request.url?.split('/').pop()
  const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers })
    response.end(body)
  }
  if (request.headers.authorization !== 'Bearer token-1') return reply(401, '{"code":"INVALID_TOKEN"}')
  switch (id) {
    case USER:
      return reply(200, JSON.stringify({ id: USER }))
    case 'gone':
      return reply(404, '{"code":"USER_NOT_FOUND"}')
    case 'no-route':
      return reply(404, '{"code":"NOT_FOUND"}')
    case 'moved':
      return reply(302, '', { location: `${url}/auth/users/${USER}` })
    case 'stalls-in-body':
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write('{"id":')
      return // never ends
    default:
      return // never answers
  }
})
const connections: number[] = []
server.on('connection', (socket) => connections.push(socket.remotePort!))

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('expected a failure'),
    (error: { statusCode: number; code: string; message: string }) => error,
  )

describe('createAuthUsersClient', () => {
  test("a known user is true, auth's own 404 false; the connection is kept and reused", async () => {
    const client = createAuthUsersClient({ authUrl: url, timeoutMs: 1000 })
    try {
      const before = connections.length
      expect(await client.exists(USER, 'token-1')).toBe(true)
      expect(await client.exists('gone', 'token-1')).toBe(false)
      expect(await client.exists(USER, 'token-1')).toBe(true)
      expect(connections.length - before).toBe(1)
    } finally {
      client.close()
    }
  })

  test.each([
    ['no-route', 'GET /auth/users/{id} answered 404'],
    ['moved', 'GET /auth/users/{id} answered 302'],
  ])(
    '%s: 503 AUTH_UNAVAILABLE naming the answer (a wrong route is no "unknown user", a redirect is not followed)',
    async (id, why) => {
      const client = createAuthUsersClient({ authUrl: url, timeoutMs: 1000 })
      try {
        const error = await failure(client.exists(id, 'token-1'))
        expect(error).toMatchObject({ statusCode: 503, code: 'AUTH_UNAVAILABLE' })
        expect(error.message).toContain(why)
      } finally {
        client.close()
      }
    },
  )

  test('a token auth rejects: 401 INVALID_TOKEN', async () => {
    const client = createAuthUsersClient({ authUrl: url, timeoutMs: 1000 })
    try {
      expect(await failure(client.exists(USER, 'token-2'))).toMatchObject({
        statusCode: 401,
        code: 'INVALID_TOKEN',
      })
    } finally {
      client.close()
    }
  })

  test.each(['never-answers', 'stalls-in-body'])(
    '%s: the timeout bounds the whole answer, headers and body',
    async (id) => {
      const client = createAuthUsersClient({ authUrl: url, timeoutMs: 200 })
      try {
        const started = performance.now()
        const error = await failure(client.exists(id, 'token-1'))
        expect(error).toMatchObject({ statusCode: 503, code: 'AUTH_UNAVAILABLE' })
        expect(error.message).toContain('no answer within 200 ms')
        expect(performance.now() - started).toBeGreaterThanOrEqual(190)
      } finally {
        client.close()
      }
    },
  )

  test('nothing listening: 503 AUTH_UNAVAILABLE naming the socket error', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const client = createAuthUsersClient({ authUrl: `http://127.0.0.1:${port}`, timeoutMs: 1000 })
    try {
      const error = await failure(client.exists(USER, 'token-1'))
      expect(error).toMatchObject({ statusCode: 503, code: 'AUTH_UNAVAILABLE' })
      expect(error.message).toContain('ECONNREFUSED')
    } finally {
      client.close()
    }
  })
})
