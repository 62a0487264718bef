// auth starts only with a signing key (it makes none outside DEV_SECRETS_DIR): the
// bench gives it one inline, as production would, fresh for each run.
import { generateKeyPairSync } from 'node:crypto'

export function authSigningKeyEnv(): { AUTH_JWT_PRIVATE_KEY: string } {
  const { privateKey } = generateKeyPairSync('ed25519')
  return { AUTH_JWT_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }
}
