// Deletes ended login rate limit windows, in batches, every `intervalSeconds`.
// Every replica may run it: concurrent deletes of the same rows are harmless, and an
// ended window is restarted by the next hit even before it is deleted, so the sweep
// only bounds the table's size (one row per client address seen in a window).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { LoginRateLimitsRepository } from '../db/login-rate-limits-repository.js'

export interface LoginRateLimitSweeperOptions {
  loginRateLimits: LoginRateLimitsRepository
  /** 0: never. */
  intervalSeconds: number
}

export const loginRateLimitSweeperPlugin = fp(
  async (app: FastifyInstance, options: LoginRateLimitSweeperOptions) => {
    if (options.intervalSeconds === 0) return
    const { loginRateLimits } = options
    let running: Promise<void> | undefined
    const sweep = async () => {
      try {
        let deleted = 0
        for (let batch = await loginRateLimits.deleteExpired(); batch > 0; ) {
          deleted += batch
          batch = await loginRateLimits.deleteExpired()
        }
        if (deleted > 0) app.log.info({ deleted }, 'deleted ended login rate limit windows')
      } catch (error) {
        app.log.warn({ err: error }, 'login rate limit sweep failed; the next one retries')
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
  { name: 'login-rate-limit-sweeper', dependencies: ['db', 'lifecycle'] },
)
