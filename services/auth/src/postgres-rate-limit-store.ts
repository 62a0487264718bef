// @fastify/rate-limit's `store` contract backed by auth.login_rate_limits, so every
// replica counts against one limit. The library builds the store with `new Store(
// pluginOptions)`, calls `child(routeParams)` once per limited route, and then
// `incr(key, callback, timeWindow, max)` once per request, before the handler runs.
// An error passed to the callback is thrown from that hook (skipOnError stays false):
// the request fails and the route's handler never runs.
// `read` (only for createRateLimit's `{ increment: false }`) is not implemented; the
// library then refuses that call with its own clear error.
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { LoginRateLimitsRepository } from './db/login-rate-limits-repository.js'

/** What the library passes to `child`: the merged options and the route's own. */
interface ChildParams {
  continueExceeding?: boolean
  exponentialBackoff?: boolean
  routeInfo?: { method?: string | string[]; url?: string }
}

export function postgresRateLimitStore(counts: LoginRateLimitsRepository): FastifyRateLimitStoreCtor {
  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    /** Keys are namespaced per route, as the library's Redis store does. */
    private readonly prefix: string

    constructor(params: ChildParams, prefix = '') {
      // The SQL counts plain fixed windows; refuse what it would silently ignore.
      if (params.continueExceeding || params.exponentialBackoff) {
        throw new Error(
          'the PostgreSQL rate limit store supports neither continueExceeding nor exponentialBackoff',
        )
      }
      this.prefix = prefix
    }

    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      counts.hit(this.prefix + key, timeWindow).then(
        ({ hits, ttlMs }) => callback(null, { current: hits, ttl: ttlMs }),
        (error: Error) => callback(error),
      )
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      // The typings describe the route's options; at run time the library passes the
      // merged limit options with the route under `routeInfo`.
      const params = routeOptions as unknown as ChildParams
      const route = params.routeInfo ?? {}
      return new PostgresRateLimitStore(params, `${route.method ?? ''} ${route.url ?? ''} `)
    }
  }
}
