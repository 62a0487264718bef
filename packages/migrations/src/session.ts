// Gives the migration tools one connection: the caller's, or a new one (retried
// while the server is starting) that is closed afterwards.

import { connectClient, type RetryOptions } from '@app/db'
import type pg from 'pg'

export interface ConnectionOptions {
  /** Where to connect; the tools open and close their own connection. */
  url?: string
  /** Or an already-connected client, which the tools leave open. */
  client?: pg.ClientBase
  /** Retry policy for connecting with `url`. */
  retry?: RetryOptions
}

export async function withConnection<T>(
  options: ConnectionOptions,
  applicationName: string,
  work: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  if (options.client) return work(options.client)
  if (!options.url) throw new Error('pass either `url` or `client`')
  const client = await connectClient(options.url, { ...options.retry, applicationName })
  try {
    // No session-level SET here: behind a transaction pooler it would outlive this
    // client on a shared server connection. Limits are SET LOCAL, per transaction
    // (see schema-transaction.ts).
    return await work(client)
  } finally {
    await client.end().catch(() => {})
  }
}
