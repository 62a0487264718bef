// Deletes Idempotency-Key records past their retention, in small batches, every
// `intervalSeconds`. Every replica may run it: concurrent deletes of the same rows
// are harmless, and an expired record is ignored (and reclaimable) even before it
// is deleted, so the sweep only bounds the table's size.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { deleteExpiredKeys } from '../idempotency/idempotency-repository.js'

export const idempotencySweeperPlugin = fp(
  async (app: FastifyInstance, options: { ttlSeconds: number; intervalSeconds: number }) => {
    if (options.intervalSeconds === 0) return
    let running: Promise<void> | undefined
    const sweep = async () => {
      try {
        let deleted = 0
        for (let batch = await deleteExpiredKeys(app.db, options.ttlSeconds); batch > 0; ) {
          deleted += batch
          batch = await deleteExpiredKeys(app.db, options.ttlSeconds)
        }
        if (deleted > 0) app.log.info({ deleted }, 'deleted expired idempotency keys')
      } catch (error) {
        app.log.warn({ err: error }, 'idempotency key sweep failed; the next one retries')
      }
    }
    const timer = setInterval(() => {
      if (app.lifecycle.state !== 'ready' || running) return
      running = sweep().finally(() => {
        running = undefined
      })
    }, options.intervalSeconds * 1000)
    // The timer alone must not keep the process alive.
    timer.unref()
    app.addHook('onClose', async () => {
      clearInterval(timer)
      await running
    })
  },
  { name: 'idempotency-sweeper', dependencies: ['db', 'lifecycle'] },
)
