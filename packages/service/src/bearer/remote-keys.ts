// The signing keys of a token issuer that another service publishes as a JWKS (auth's
// /auth/.well-known/jwks.json), cached; a token with an unknown `kid` makes jose fetch
// them again (at most once per cooldown), which is how a key rotation at the issuer
// reaches every verifier without a restart.
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose'
import { kitErrors } from '../error-codes.js'

export interface RemoteKeysOptions {
  url: URL
  timeoutMs: number
  cacheMaxAgeMs: number
  cooldownMs: number
}

/** Errors that mean "this token names no key we trust", as opposed to "we could not get the keys". */
const KEY_SELECTION_ERRORS = [
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSENotSupported,
]

export function remoteSigningKeys(options: RemoteKeysOptions): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(options.url, {
    timeoutDuration: options.timeoutMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    cooldownDuration: options.cooldownMs,
  })
  // When the cache has expired and the issuer is briefly unreachable, keep verifying
  // with the keys last seen rather than failing every request; a kid never seen still
  // needs the issuer, so that is 503, not 401.
  return async (header, token) => {
    try {
      return await remote(header, token)
    } catch (error) {
      if (KEY_SELECTION_ERRORS.some((type) => error instanceof type)) throw error
      const lastKnown = remote.jwks()
      if (lastKnown) {
        const stale = await createLocalJWKSet(lastKnown)(header, token).catch(() => undefined)
        if (stale) return stale
      }
      throw kitErrors.error(
        'AUTH_UNAVAILABLE',
        `the auth service is unavailable (cannot fetch its signing keys: ${describeFailure(error)}); nothing was written, retry shortly`,
      )
    }
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof errors.JWKSTimeout) return 'timed out'
  if (error instanceof Error) {
    const cause = (error.cause as { code?: string } | undefined)?.code
    return cause ? `${error.message} (${cause})` : error.message
  }
  return String(error)
}
