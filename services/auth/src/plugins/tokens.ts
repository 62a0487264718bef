// The token service (sign, verify, publish the public key), built from the
// configured key, or from a development key generated now, which the log says.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AuthConfig } from '../config.js'
import { generateDevelopmentKey, toSigningKey } from '../tokens/signing-key.js'
import { createTokenService, type TokenService } from '../tokens/tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
  }
}

export const tokensPlugin = fp(
  async (app: FastifyInstance, options: { jwt: AuthConfig['jwt'] }) => {
    const { jwt } = options
    let privateKey = jwt.privateKey
    if (!privateKey) {
      privateKey = generateDevelopmentKey()
      app.log.warn(
        'auth: no signing key configured (AUTH_JWT_PRIVATE_KEY or AUTH_JWT_PRIVATE_KEY_FILE): generated a development key. Tokens stop verifying when this process restarts, and replicas do not share it; configure a key outside development.',
      )
    }
    const key = await toSigningKey(privateKey)
    app.log.info({ kid: key.kid, source: jwt.keySource ?? 'generated' }, 'auth: token signing key loaded')
    app.decorate('tokens', createTokenService(key, jwt))
  },
  { name: 'tokens' },
)
