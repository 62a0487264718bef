// Access tokens per the auth <-> services contract, JWT access tokens as RFC 9068
// has them: EdDSA-signed, header typ `at+jwt` and `kid` (the key's RFC 7638
// thumbprint); claims iss (auth's URL), aud (every service the token is for, by
// name: each accepts only tokens that list it), sub (the user's id), username,
// scope (space-separated, absent when none was granted), iat, exp. The current key of the set signs; every key of the set verifies, through the
// service kit's bearer verification (which every service shares: EdDSA only, the
// key the token's kid names, typ, iss, aud and exp checked).
import { ACCESS_TOKEN_TYP } from '@app/service'
import { createLocalJWKSet, SignJWT } from 'jose'
import type { KeySet } from './key-set.js'

export interface TokenOptions {
  issuer: string
  /** The services (by name) the tokens are for: `aud`. */
  audiences: readonly string[]
  ttlSeconds: number
}

export interface AccessToken {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  /** The scopes granted, space-separated (empty when none): RFC 6749 section 5.1. */
  scope: string
}

export function createTokenService(keys: KeySet, options: TokenOptions) {
  const { current } = keys
  return {
    async issue(user: { id: string; username: string }, scopes: readonly string[]): Promise<AccessToken> {
      const now = Math.floor(Date.now() / 1000)
      const scope = scopes.join(' ')
      const token = await new SignJWT({ username: user.username, ...(scope ? { scope } : {}) })
        .setProtectedHeader({ alg: 'EdDSA', kid: current.kid, typ: ACCESS_TOKEN_TYP })
        .setIssuer(options.issuer)
        .setAudience([...options.audiences])
        .setSubject(user.id)
        .setIssuedAt(now)
        .setExpirationTime(now + options.ttlSeconds)
        .sign(current.privateKey)
      return { access_token: token, token_type: 'bearer', expires_in: options.ttlSeconds, scope }
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
