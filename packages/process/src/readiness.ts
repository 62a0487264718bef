// Polls a service's /readyz until it answers 200: listening, database reachable,
// migrations applied. node:http rather than fetch: no connection is kept, and the
// first 200 is seen as soon as it arrives (bench times launch to ready with it).
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

/** One GET: the status, or 0 when nothing answered (not listening, reset, or silent for `timeoutMs`). */
export function httpStatus(url: string, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('timeout', () => request.destroy())
    request.on('error', () => resolve(0))
  })
}

/** Polls `url` every `intervalMs` (default 50) until it answers 200 (true) or `signal` aborts (false). */
export async function pollUntilReady(
  url: string,
  options: { signal?: AbortSignal; intervalMs?: number } = {},
): Promise<boolean> {
  const { signal, intervalMs = 50 } = options
  while (!signal?.aborted) {
    if ((await httpStatus(url)) === 200) return true
    await sleep(intervalMs, undefined, { signal }).catch(() => {})
  }
  return false
}
