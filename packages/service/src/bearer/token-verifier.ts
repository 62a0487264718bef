// Verifies auth's access tokens (the auth <-> services contract): EdDSA only, so
// `alg: none` and HS256 signed with the public key as a secret never pass; the key
// is the one the token's `kid` names (a token without one is refused); the header's
// typ must be `at+jwt` (RFC 9068: an access token, not an ID token or another JWT
// signed by the same key); iss, aud and exp are checked; sub must be a user id. The
// same verifier serves auth (its own key set) and every other service (auth's
// published keys, see remote-keys.ts).
import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose'
import { kitErrors } from '../error-codes.js'
import { ApiError } from '../errors.js'

export interface TokenVerifierOptions {
  /** The key for a token's header: jose's createLocalJWKSet, or remoteSigningKeys. */
  keys: JWTVerifyGetKey
  issuer: string
  /** This service's name: a token must list it in `aud` (auth issues one token for several services). */
  audience: string
  /** Clock skew accepted between the issuer's host and this one, for exp. Default 0. */
  clockToleranceSeconds?: number
  /** How a client gets a new token, for the messages, e.g. "POST /auth/token". */
  loginHint: string
}

/** Who a verified token speaks for. */
export interface VerifiedToken {
  userId: string
  username: string
  /** What the token may do (RFC 9068's space-separated `scope` claim): services check these, never roles. */
  scopes: readonly string[]
}

/** RFC 9068's media type for JWT access tokens, as the `typ` header carries it. */
export const ACCESS_TOKEN_TYP = 'at+jwt'

export interface TokenVerifier {
  (token: string): Promise<VerifiedToken>
  /**
   * The result for a token that passed full verification before and has not expired,
   * without a promise (the per-request path: clients send the same token until it
   * expires); undefined for any other token, which then needs the call above.
   */
  known(token: string): VerifiedToken | undefined
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// Clients send the same token on every request until it expires, and an Ed25519
// verification costs more CPU than the rest of a read by id. So a token that passed
// full verification (the whole string, signature included) is remembered until its
// exp (plus the tolerance, as jose accepts it); past this many, the oldest make room.
// Trade-off: a key withdrawn from the set stops new tokens at once, but tokens
// already seen stay accepted until they expire (at most auth's token lifetime).
const VERIFIED_CACHE_SIZE = 10_000

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const tolerance = options.clockToleranceSeconds ?? 0
  const verified = new Map<string, { token: VerifiedToken; validUntilMs: number }>()
  const invalid = (why: string) =>
    kitErrors.error(
      'INVALID_TOKEN',
      `the access token is not valid: ${why}; log in again at ${options.loginHint}`,
    )
  const keyFor: JWTVerifyGetKey = (header, token) => {
    if (typeof header.kid !== 'string') throw invalid('it names no key (kid)')
    return options.keys(header, token)
  }

  const known = (token: string): VerifiedToken | undefined => {
    const entry = verified.get(token)
    if (entry === undefined) return undefined
    if (Date.now() < entry.validUntilMs) return entry.token
    verified.delete(token)
    return undefined
  }

  const verify = async (token: string): Promise<VerifiedToken> => {
    const seen = known(token)
    if (seen) return seen
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
    try {
      ;({ payload } = await jwtVerify(token, keyFor, {
        algorithms: ['EdDSA'],
        issuer: options.issuer,
        audience: options.audience,
        typ: ACCESS_TOKEN_TYP,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: tolerance,
      }))
    } catch (error) {
      if (error instanceof ApiError) throw error
      if (error instanceof errors.JWTExpired) {
        throw kitErrors.error(
          'INVALID_TOKEN',
          `the access token has expired; log in again at ${options.loginHint}`,
        )
      }
      if (error instanceof errors.JOSEError) throw invalid(reason(error))
      throw error
    }
    if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) throw invalid('its sub is not a user id')
    const result = {
      userId: payload.sub.toLowerCase(),
      username: typeof payload.username === 'string' ? payload.username : '',
      scopes: Object.freeze(
        typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      ),
    }
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!)
    verified.set(token, { token: result, validUntilMs: (payload.exp! + tolerance) * 1000 })
    return result
  }
  return Object.assign(verify, { known })
}

/** What to tell the caller, without echoing anything from the token itself. */
function reason(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === 'typ'
      ? `its typ header is not ${ACCESS_TOKEN_TYP} (not an access token)`
      : `its ${error.claim} claim is not accepted`
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'it is not signed with EdDSA'
  if (error instanceof errors.JWKSNoMatchingKey) return 'it is not signed by a key the issuer publishes'
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify'
  return 'it is malformed'
}
