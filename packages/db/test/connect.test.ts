import net from 'node:net'
import { beforeAll, describe, expect, test } from 'vitest'
import { freePort } from '../src/embedded.js'
import {
  createServiceDatabase,
  DatabaseUnavailableError,
  waitForDatabase,
  withDatabase,
  withUser,
} from '../src/index.js'
import { freshDatabase } from './helpers.js'

let url: string
beforeAll(async () => {
  url = (await freshDatabase('connect')).url
})

describe('waitForDatabase', () => {
  test('retries with growing delays, then fails naming host, port and database but never the password', async () => {
    const port = await freePort()
    const target = `postgres://app:s3cret-pw@127.0.0.1:${port}/appdb`
    const delays: number[] = []
    const error = await waitForDatabase(target, {
      timeoutMs: 700,
      initialDelayMs: 50,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    }).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(DatabaseUnavailableError)
    const message = (error as Error).message
    expect(message).toContain(`127.0.0.1:${port}/appdb`)
    expect(message).toMatch(/gave up after \d+ attempts/)
    expect(message).not.toContain('s3cret-pw')
    expect(delays.length).toBeGreaterThanOrEqual(3)
    expect(delays[1]).toBeGreaterThan(delays[0]!)
  })

  test('connects once the server becomes reachable', async () => {
    const { hostname, port: realPort } = new URL(url)
    const port = await freePort()
    let proxy: net.Server | undefined
    let retries = 0
    const waiting = waitForDatabase(url.replace(`:${realPort}/`, `:${port}/`), {
      timeoutMs: 20_000,
      initialDelayMs: 50,
      onRetry: () => {
        retries++
        // After a few refusals the "server" comes up: a proxy to the real one.
        if (retries === 3) {
          proxy = net.createServer((socket) => {
            const upstream = net.connect(Number(realPort || 5432), hostname)
            socket.pipe(upstream).pipe(socket)
            socket.on('error', () => upstream.destroy())
            upstream.on('error', () => socket.destroy())
          })
          proxy.listen(port, '127.0.0.1')
        }
      },
    })
    await expect(waiting).resolves.toBeUndefined()
    expect(retries).toBeGreaterThanOrEqual(3)
    proxy?.close()
  })

  test('a database that does not exist fails at once instead of retrying', async () => {
    let retries = 0
    const error = await waitForDatabase(withDatabase(url, 'no_such_database_here'), {
      timeoutMs: 10_000,
      onRetry: () => retries++,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseUnavailableError)
    expect((error as Error).message).toContain('no_such_database_here')
    expect(retries).toBe(0)
  })
})

describe('createServiceDatabase', () => {
  test('names its connections after the service and sends no other setting (a pooler refuses them)', async () => {
    const database = createServiceDatabase({ url, applicationName: 'billing', max: 3 })
    try {
      const client = await database.pool.connect()
      try {
        const { rows } = await client.query<{ name: string }>(
          `SELECT name FROM pg_settings WHERE source = 'client' AND name <> 'client_encoding' ORDER BY name`,
        )
        // Only what every pooler passes through; the statement timeout is the role's setting.
        expect(rows.map((r) => r.name)).toEqual(['application_name'])
      } finally {
        client.release()
      }
      expect(database.pool.options.max).toBe(3)
      expect(await database.ping()).toBe(true)
    } finally {
      await database.close()
    }
    expect(database.pool.ended).toBe(true)
    // Closing twice is harmless (onClose hooks and signal handlers may both call it).
    await database.close()
  })

  test.each([
    [true, ['named_probe']],
    [false, []],
  ])('preparedStatements %s: named statements prepared on the connection: %j', async (prepared, expected) => {
    const database = createServiceDatabase({
      url,
      applicationName: 'prepared',
      max: 1,
      preparedStatements: prepared,
    })
    try {
      const named = { name: 'named_probe', text: 'SELECT $1::int AS n', values: [7] }
      expect((await database.pool.query(named)).rows).toEqual([{ n: 7 }])
      expect((await database.pool.query(named)).rows).toEqual([{ n: 7 }])
      const { rows } = await database.pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements')
      expect(rows.map((r) => r.name)).toEqual(expected)
    } finally {
      await database.close()
    }
  })

  test('ping is false when the server refuses the login', async () => {
    const database = createServiceDatabase({
      url: withUser(url, 'nobody_at_all', 'x'),
      applicationName: 'ping',
    })
    try {
      expect(await database.ping()).toBe(false)
    } finally {
      await database.close()
    }
  })
})
