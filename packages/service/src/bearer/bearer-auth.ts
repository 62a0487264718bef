// Bearer authentication for the routes that need it: `onRequest: app.authenticate`
// runs before the body is parsed or validated (an anonymous caller learns nothing
// about the payload rules), verifies the token and sets request.caller. Failures are
// 401 in the shared error shape with a WWW-Authenticate challenge (RFC 6750):
// NOT_AUTHENTICATED when no bearer token was sent, INVALID_TOKEN when one was and is
// no good. The OpenAPI document of a route using it lists both and its security.
// `requireScope(scope)`, after it, lets through only tokens granted that scope (RFC
// 9068's `scope` claim): else 403 INSUFFICIENT_SCOPE with the RFC 6750 challenge
// naming the scope; the route's OpenAPI security then asks for that scope.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { kitErrors } from '../error-codes.js'
import { ApiError } from '../errors.js'
import { createTokenVerifier, type TokenVerifierOptions, type VerifiedToken } from './token-verifier.js'

/** The authenticated caller: who the token speaks for, and the token itself (to forward). */
export interface Caller extends VerifiedToken {
  token: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook (callback style): `onRequest: app.authenticate`. */
    authenticate: onRequestHookHandler
  }
  interface FastifyRequest {
    /** Set by app.authenticate; null on routes that don't use it. */
    caller: Caller | null
  }
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i

export const bearerAuthPlugin = fp(
  async (app: FastifyInstance, options: TokenVerifierOptions) => {
    const verify = createTokenVerifier(options)
    // One Caller per verified token, reused by every request that sends it.
    const callers = new WeakMap<VerifiedToken, Caller>()
    const callerFor = (verified: VerifiedToken, token: string) => {
      let caller = callers.get(verified)
      if (caller === undefined) {
        caller = Object.freeze({ ...verified, token })
        callers.set(verified, caller)
      }
      return caller
    }
    const refuse = (reply: FastifyReply, error: unknown) => {
      if (error instanceof ApiError && error.statusCode === 401) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
      }
      return error as Error
    }
    app.decorateRequest('caller', null)
    // Callback style, and no promise for a token seen before (every request but a
    // client's first): it runs on every authenticated request.
    app.decorate('authenticate', function authenticate(request, reply, done) {
      const header = request.headers.authorization
      if (!header || !/^Bearer\b/i.test(header)) {
        reply.header('www-authenticate', 'Bearer')
        done(
          kitErrors.error(
            'NOT_AUTHENTICATED',
            `this route needs an access token: send \`Authorization: Bearer <access_token>\` (get one from ${options.loginHint})`,
          ),
        )
        return
      }
      const token = BEARER.exec(header)?.[1]
      if (!token) {
        done(
          refuse(
            reply,
            kitErrors.error('INVALID_TOKEN', 'the Authorization header must be "Bearer <access_token>"'),
          ),
        )
        return
      }
      const known = verify.known(token)
      if (known) {
        request.caller = callerFor(known, token)
        done()
        return
      }
      verify(token).then(
        (verified) => {
          request.caller = callerFor(verified, token)
          done()
        },
        (error: unknown) => done(refuse(reply, error)),
      )
    } satisfies onRequestHookHandler)
  },
  { name: 'bearer-auth' },
)

const SCOPE = Symbol('required scope')

type ScopeHook = ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) & { [SCOPE]: string }

/**
 * An onRequest hook for after app.authenticate: `onRequest: [app.authenticate,
 * requireScope('billing:plans:write')]`. Services check scopes, never roles.
 */
export function requireScope(scope: string): ScopeHook {
  const hook = async (request: FastifyRequest, reply: FastifyReply) => {
    if (hasScope(callerOf(request), scope)) return
    reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${scope}"`)
    throw kitErrors.error(
      'INSUFFICIENT_SCOPE',
      `this operation needs the scope ${scope}, which your access token was not granted; log in again as a user whose role grants it (an admin)`,
      { requiredScope: scope },
    )
  }
  return Object.assign(hook, { [SCOPE]: scope })
}

/** The scope a hook made by requireScope checks, for the OpenAPI document. */
export function requiredScopeOf(hook: unknown): string | undefined {
  return typeof hook === 'function' ? (hook as Partial<ScopeHook>)[SCOPE] : undefined
}

export function hasScope(caller: Caller, scope: string): boolean {
  return caller.scopes.includes(scope)
}

/** The authenticated caller; only for routes that run `app.authenticate`. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller)
    throw new Error(`${request.routeOptions.url} reads the caller without app.authenticate`)
  return request.caller
}
