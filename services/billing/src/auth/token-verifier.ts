// Verifies auth's access tokens locally against its published keys (JWKS), per the
// auth <-> billing contract: EdDSA only (so `alg: none` and HS256 never pass), and
// iss, aud, exp checked. Keys are cached; a token with an unknown `kid` makes jose
// fetch the set again (at most once per cooldown), which is how a key rotation in
// auth reaches billing without a restart.
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose'
import { authUnavailable, unauthenticated } from './errors.js'

export interface TokenVerifierOptions {
  /** auth's base URL; the keys are at `${authUrl}/auth/.well-known/jwks.json`. */
  authUrl: string
  issuer: string
  audience: string
  timeoutMs: number
  cacheMaxAgeMs: number
  cooldownMs: number
  clockToleranceSeconds: number
}

export interface VerifiedUser {
  /** auth's user id (the token's `sub`). */
  id: string
  username: string
}

export type TokenVerifier = (token: string) => Promise<VerifiedUser>

// An Ed25519 verification costs a few hundred microseconds of CPU here, more than
// the rest of a read by id, and clients send the same token on every request until
// it expires. So a token that passed full verification (the whole string, signature
// included) is remembered until its exp; past this many, the oldest make room.
// Trade-off: a key auth withdraws stops working for new tokens at once, but tokens
// already seen stay accepted until they expire (at most AUTH_TOKEN_TTL_SECONDS).
const VERIFIED_CACHE_SIZE = 10_000

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Errors that mean "this token names no key we trust", as opposed to "we could not get the keys". */
const KEY_SELECTION_ERRORS = [
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSENotSupported,
]

export function jwksUrl(authUrl: string): URL {
  return new URL(`${authUrl}/auth/.well-known/jwks.json`)
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const remote = createRemoteJWKSet(jwksUrl(options.authUrl), {
    timeoutDuration: options.timeoutMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    cooldownDuration: options.cooldownMs,
  })

  // When the cache has expired and auth is briefly unreachable, keep verifying with
  // the keys we last saw rather than failing every request; a kid we have never
  // seen still needs auth, so that is 503, not 401.
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token)
    } catch (error) {
      if (KEY_SELECTION_ERRORS.some((type) => error instanceof type)) throw error
      const lastKnown = remote.jwks()
      if (lastKnown) {
        const stale = await createLocalJWKSet(lastKnown)(header, token).catch(() => undefined)
        if (stale) return stale
      }
      throw authUnavailable(`cannot fetch its signing keys: ${describeFailure(error)}`)
    }
  }

  const verified = new Map<string, { user: VerifiedUser; validUntilMs: number }>()

  return async (token) => {
    const known = verified.get(token)
    if (known) {
      if (Date.now() < known.validUntilMs) return known.user
      verified.delete(token)
    }
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
    try {
      ;({ payload } = await jwtVerify(token, getKey, {
        algorithms: ['EdDSA'],
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: options.clockToleranceSeconds,
      }))
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw unauthenticated(
          'INVALID_TOKEN',
          'the access token has expired; log in again at auth (POST /auth/token)',
        )
      }
      if (error instanceof errors.JOSEError) {
        throw unauthenticated('INVALID_TOKEN', `the access token is not valid: ${reason(error)}`)
      }
      throw error
    }
    if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) {
      throw unauthenticated('INVALID_TOKEN', 'the access token is not valid: its sub is not a user id')
    }
    const user = {
      id: payload.sub.toLowerCase(),
      username: typeof payload.username === 'string' ? payload.username : '',
    }
    // jose accepts a token until exp + tolerance; so does the cache.
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!)
    verified.set(token, { user, validUntilMs: (payload.exp! + options.clockToleranceSeconds) * 1000 })
    return user
  }
}

/** What to tell the caller, without echoing anything from the token itself. */
function reason(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTClaimValidationFailed) return `the ${error.claim} claim is not accepted`
  if (error instanceof errors.JOSEAlgNotAllowed) return 'it is not signed with EdDSA'
  if (error instanceof errors.JWKSNoMatchingKey) return 'it is not signed by a key auth publishes'
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify'
  return 'it is malformed'
}

function describeFailure(error: unknown): string {
  if (error instanceof errors.JWKSTimeout) return 'timed out'
  if (error instanceof Error) {
    const cause = (error.cause as { code?: string } | undefined)?.code
    return cause ? `${error.message} (${cause})` : error.message
  }
  return String(error)
}
