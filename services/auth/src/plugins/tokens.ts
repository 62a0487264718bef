// The token service (sign, verify, publish the public keys), built from the key
// set the configuration holds; the log says which keys and where the current one
// came from, and warns when it is DEV_SECRETS_DIR's development key.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AuthConfig } from '../config.js'
import { createKeySet } from '../tokens/key-set.js'
import { createTokenService, type TokenService } from '../tokens/tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
  }
}

export const tokensPlugin = fp(
  async (app: FastifyInstance, options: { jwt: AuthConfig['jwt'] }) => {
    const { jwt } = options
    const keys = await createKeySet(
      jwt.privateKey,
      jwt.verifyKeys.map((key) => key.publicKey),
    )
    app.log.info(
      {
        kid: keys.current.kid,
        source: jwt.keySource,
        ...(jwt.keyFile ? { file: jwt.keyFile } : {}),
        verifyOnly: keys.jwks.keys.slice(1).map((key) => key.kid),
      },
      'auth: token keys loaded: the current key signs, every key of the set verifies and is published',
    )
    if (jwt.keySource === 'DEV_SECRETS_DIR') {
      app.log.warn(
        `auth: signing tokens with a development key from DEV_SECRETS_DIR (${jwt.keyFile}). Development only: anywhere else configure AUTH_JWT_PRIVATE_KEY, AUTH_JWT_PRIVATE_KEY_FILE or AUTH_JWT_KEYS_DIR.`,
      )
    }
    app.decorate('tokens', createTokenService(keys, jwt))
  },
  { name: 'tokens' },
)
