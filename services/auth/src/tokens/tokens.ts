// Access tokens per the auth <-> services contract: EdDSA-signed JWTs with `kid`
// (the key's RFC 7638 thumbprint), iss, aud, sub (the user's id), username, iat,
// exp. The current key of the set signs; every key of the set verifies, through the
// service kit's bearer verification (which every service shares: EdDSA only, the
// key the token's kid names, iss, aud and exp checked).
import { createLocalJWKSet, SignJWT } from 'jose'
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

export function createTokenService(keys: KeySet, options: TokenOptions) {
  const { current } = keys
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

    /** The public keys that verify these tokens, as GET /auth/.well-known/jwks.json serves them. */
    jwks() {
      return keys.jwks
    },

    /**
     * The key for a token's header, from the set (the kit's bearer verification uses
     * it, as other services use auth's published JWKS): a kid outside the set is a key
     * auth does not trust (another issuer's, or one retired from the configuration).
     */
    keys: createLocalJWKSet(keys.jwks),
  }
}

export type TokenService = ReturnType<typeof createTokenService>
