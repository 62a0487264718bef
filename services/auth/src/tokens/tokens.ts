// Access tokens per the auth <-> billing contract: EdDSA-signed JWTs with `kid`
// (the key's RFC 7638 thumbprint), iss, aud, sub (the user's id), username, iat,
// exp. The current key of the set signs; verification takes the key the token's
// kid names from the set (no kid, or a kid not in the set: invalid), accepts only
// EdDSA, so `alg: none` and HS256 (signed with the public key as a secret) are
// rejected, and checks iss, aud and exp.
import { errors, type JWSHeaderParameters, jwtVerify, SignJWT } from 'jose'
import type { KeySet } from './key-set.js'

export interface TokenOptions {
  issuer: string
  audience: string
  ttlSeconds: number
}

export interface AccessToken {
  access_token: string
  token_type: 'bearer'
  expires_in: number
}

/** Who a verified token speaks for. */
export interface Principal {
  userId: string
  username: string
}

export class InvalidTokenError extends Error {
  constructor(readonly reason: 'expired' | 'invalid') {
    super(reason === 'expired' ? 'the token has expired' : 'the token is invalid')
    this.name = 'InvalidTokenError'
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// Clients send the same token on every request until it expires, and an Ed25519
// verification costs more CPU than the rest of a GET /auth/users/{id}. So a
// verified token (the whole string, signature included) is remembered until its
// exp; the oldest entries make room past this many.
const VERIFIED_CACHE_SIZE = 10_000

export function createTokenService(keys: KeySet, options: TokenOptions) {
  const { current } = keys
  // A kid outside the set is a key this service does not trust (another issuer's,
  // or one retired from the configuration).
  const keyForToken = (header: JWSHeaderParameters) => {
    const key = header.kid === undefined ? undefined : keys.byKid.get(header.kid)
    if (!key) throw new InvalidTokenError('invalid')
    return key
  }
  const verified = new Map<string, { principal: Principal; exp: number }>()
  const verifyOptions = {
    algorithms: ['EdDSA'],
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: ['sub', 'iat', 'exp'],
  }
  return {
    async issue(user: { id: string; username: string }): Promise<AccessToken> {
      const now = Math.floor(Date.now() / 1000)
      const token = await new SignJWT({ username: user.username })
        .setProtectedHeader({ alg: 'EdDSA', kid: current.kid, typ: 'JWT' })
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setSubject(user.id)
        .setIssuedAt(now)
        .setExpirationTime(now + options.ttlSeconds)
        .sign(current.privateKey)
      return { access_token: token, token_type: 'bearer', expires_in: options.ttlSeconds }
    },

    /** Throws InvalidTokenError for anything but a current token signed by a key of the set. */
    async verify(token: string): Promise<Principal> {
      const known = verified.get(token)
      if (known) {
        // jose's rule: expired once now >= exp.
        if (Math.floor(Date.now() / 1000) < known.exp) return known.principal
        verified.delete(token)
      }
      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
      try {
        ;({ payload } = await jwtVerify(token, keyForToken, verifyOptions))
      } catch (error) {
        throw new InvalidTokenError(error instanceof errors.JWTExpired ? 'expired' : 'invalid')
      }
      if (
        typeof payload.sub !== 'string' ||
        !UUID.test(payload.sub) ||
        typeof payload.username !== 'string'
      ) {
        throw new InvalidTokenError('invalid')
      }
      const principal = { userId: payload.sub, username: payload.username }
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!)
      verified.set(token, { principal, exp: payload.exp! })
      return principal
    },

    /** The public keys that verify these tokens, as GET /auth/.well-known/jwks.json serves them. */
    jwks() {
      return keys.jwks
    },
  }
}

export type TokenService = ReturnType<typeof createTokenService>
