// Liveness and readiness. The process listens before it migrates, so an
// orchestrator sees it alive (/healthz 200) but not ready (/readyz 503) while it
// waits for the database or applies migrations; every API route answers 503
// SERVICE_STARTING until then. After that, /readyz runs the service's checks
// (database reachable, every migration applied) on each probe. Once stopping
// (SIGTERM's drain period, then close), /readyz answers 503 at once while requests
// are still served, so load balancers take the instance out before it goes.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { closeLingeringIfBodyUnread } from './lingering-close.js'

export type LifecycleState = 'starting' | 'ready' | 'stopping'

export interface ReadinessCheck {
  name: string
  check: () => Promise<boolean>
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: {
      readonly state: LifecycleState
      markReady(): void
      /** /readyz answers 503 from now on; requests are still served, each answer closing its connection. */
      markStopping(): void
      /** Adds a check that /readyz runs on every probe (and a MIGRATE_ON_START=false start waits for). */
      addCheck(name: string, check: () => Promise<boolean>): void
      /** Runs every readiness check now: name -> passed. */
      runChecks(): Promise<Record<string, boolean>>
    }
  }
}

export const ALWAYS_OPEN = /^\/(healthz|readyz|metrics|docs(\/.*)?|openapi\.json)?(\?.*)?$/

const HealthResponse = Type.Object({ status: Type.Literal('ok') }, { description: 'The process is up' })
// Plain string enums rather than unions of literals (anyOf): the response serializer
// writes an enum directly, where an anyOf has Ajv compile a validator at the first
// answer, which was the first /readyz of every start (bench/README.md, issue 16's fifth pass).
const readyShape = {
  status: Type.Unsafe<'ready' | 'starting' | 'stopping' | 'unavailable'>({
    type: 'string',
    enum: ['ready', 'starting', 'stopping', 'unavailable'],
  }),
  checks: Type.Record(
    Type.String(),
    Type.Unsafe<'ok' | 'failing'>({ type: 'string', enum: ['ok', 'failing'] }),
  ),
}
const ReadyResponse = Type.Object(readyShape, { description: 'Ready: every check passed' })
const NotReadyResponse = Type.Object(readyShape, {
  description: 'Not ready: starting, stopping, or a check failed (listed in `checks`)',
})

export const lifecyclePlugin = fp(
  async (app: FastifyInstance) => {
    let state: LifecycleState = 'starting'
    const checks: ReadinessCheck[] = []
    const runChecks = async () =>
      Object.fromEntries(
        await Promise.all(
          checks.map(async ({ name, check }) => [name, await check().catch(() => false)] as const),
        ),
      )
    app.decorate('lifecycle', {
      get state() {
        return state
      },
      markReady() {
        if (state === 'starting') state = 'ready'
      },
      markStopping() {
        state = 'stopping'
      },
      addCheck(name: string, check: () => Promise<boolean>) {
        checks.push({ name, check })
      },
      runChecks,
    })
    // On close Node stops accepting connections and closes the idle keep-alive ones,
    // once. A connection whose request is still in flight stays open after its answer
    // (keep-alive), holding the close up until the grace period ends: exit 1, pool
    // never closed. So answers sent while stopping close their connection.
    app.addHook('preClose', async () => {
      state = 'stopping'
    })
    // One hook for both reasons an answer closes its connection (each hook costs on every answer).
    app.addHook('onSend', (request, reply, payload, done) => {
      if (state === 'stopping') reply.header('connection', 'close')
      closeLingeringIfBodyUnread(request, reply)
      done(null, payload)
    })
    // Callback-style hooks on the hot path: an async hook costs a promise per request.
    app.addHook('onRequest', (request, reply, done) => {
      if (state === 'starting' && !ALWAYS_OPEN.test(request.url)) {
        reply.code(503).header('retry-after', '1').send({
          statusCode: 503,
          code: 'SERVICE_STARTING',
          message: 'the service is starting (waiting for the database or applying migrations); retry shortly',
        })
        return
      }
      done()
    })

    app.get(
      '/healthz',
      {
        schema: {
          operationId: 'checkLiveness',
          tags: ['health'],
          summary: 'Liveness: the process is up',
          description:
            'Always 200 while the process runs, even before the database is reached: restart it only when this fails.',
          response: { 200: HealthResponse },
        },
        logLevel: 'warn',
        config: { requestLog: false },
      },
      async () => ({ status: 'ok' as const }),
    )

    app.get(
      '/readyz',
      {
        schema: {
          operationId: 'checkReadiness',
          tags: ['health'],
          summary: 'Readiness: the database is reachable and every migration is applied',
          description:
            'Send traffic only while this is 200. 503 while starting (waiting for the database, migrating), while stopping (SIGTERM drain), or when a check fails (named in `checks`).',
          response: { 200: ReadyResponse, 503: NotReadyResponse },
        },
        logLevel: 'warn',
        config: { requestLog: false },
      },
      async (_request, reply) => {
        if (state !== 'ready') return reply.code(503).send({ status: state, checks: {} })
        const results = Object.entries(await runChecks())
        const checks = Object.fromEntries(results.map(([name, ok]) => [name, ok ? 'ok' : 'failing'] as const))
        const ok = results.every(([, passed]) => passed)
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', checks })
      },
    )
  },
  { name: 'lifecycle' },
)
