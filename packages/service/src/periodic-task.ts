// Work a service repeats in the background while it is ready (sweeping expired
// rows, say). Every replica may run it, so the work must be safe to run twice at
// once; a run never overlaps the previous one, the timer alone never keeps the
// process alive, and closing the app waits for a run in progress.
import type { FastifyInstance } from 'fastify'

export interface PeriodicTaskOptions {
  /** For the log: "<name> failed; the next run retries". */
  name: string
  /** 0: never. */
  intervalSeconds: number
  run(): Promise<void>
}

export function registerPeriodicTask(app: FastifyInstance, options: PeriodicTaskOptions): void {
  if (options.intervalSeconds === 0) return
  let running: Promise<void> | undefined
  const timer = setInterval(() => {
    if (app.lifecycle.state !== 'ready' || running) return
    running = options
      .run()
      .catch((error: unknown) => app.log.warn({ err: error }, `${options.name} failed; the next run retries`))
      .finally(() => {
        running = undefined
      })
  }, options.intervalSeconds * 1000)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await running
  })
}

/** Calls `deleteBatch` until it deletes nothing; returns how many it deleted in all. */
export async function deleteInBatches(deleteBatch: () => Promise<number>): Promise<number> {
  let deleted = 0
  for (let batch = await deleteBatch(); batch > 0; batch = await deleteBatch()) deleted += batch
  return deleted
}
