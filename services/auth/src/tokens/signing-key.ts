// The Ed25519 key that signs access tokens: read from AUTH_JWT_PRIVATE_KEY (or the
// file AUTH_JWT_PRIVATE_KEY_FILE names), checked at startup, or generated for
// development. Its public half is what /auth/.well-known/jwks.json publishes.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { calculateJwkThumbprint } from 'jose'

export type SigningKeySource = 'AUTH_JWT_PRIVATE_KEY' | 'AUTH_JWT_PRIVATE_KEY_FILE'

type KeyResult = { privateKey: KeyObject | null; source: SigningKeySource | null } | { problem: string }

/** Never includes the key's text in a problem: it is a secret. */
export function readSigningKey(env: {
  AUTH_JWT_PRIVATE_KEY?: string | undefined
  AUTH_JWT_PRIVATE_KEY_FILE?: string | undefined
}): KeyResult {
  const inline = env.AUTH_JWT_PRIVATE_KEY
  const file = env.AUTH_JWT_PRIVATE_KEY_FILE
  if (inline !== undefined && file !== undefined) {
    return { problem: 'AUTH_JWT_PRIVATE_KEY and AUTH_JWT_PRIVATE_KEY_FILE are both set: set only one' }
  }
  if (inline !== undefined) return parsePrivateKey(inline, 'AUTH_JWT_PRIVATE_KEY')
  if (file !== undefined) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      return { problem: `AUTH_JWT_PRIVATE_KEY_FILE cannot be read (${reason}): ${JSON.stringify(file)}` }
    }
    return parsePrivateKey(text, 'AUTH_JWT_PRIVATE_KEY_FILE')
  }
  return { privateKey: null, source: null }
}

const EXPECTED =
  'an Ed25519 private key in PKCS8 PEM (-----BEGIN PRIVATE KEY-----), e.g. from `openssl genpkey -algorithm ed25519`'

function parsePrivateKey(text: string, source: SigningKeySource): KeyResult {
  // Env files and CI secrets often carry the PEM on one line with literal "\n".
  const pem = text.includes('\\n') ? text.replaceAll('\\n', '\n') : text
  if (!pem.includes('-----BEGIN PRIVATE KEY-----')) {
    return { problem: `${source} must be ${EXPECTED}` }
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem' })
  } catch {
    return { problem: `${source} is not a readable PKCS8 PEM private key; expected ${EXPECTED}` }
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return {
      problem: `${source} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; the contract needs ${EXPECTED}`,
    }
  }
  return { privateKey: key, source }
}

export function generateDevelopmentKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey
}

export interface PublicJwk {
  kty: 'OKP'
  crv: 'Ed25519'
  x: string
  kid: string
  alg: 'EdDSA'
  use: 'sig'
}

export interface SigningKey {
  privateKey: KeyObject
  publicKey: KeyObject
  /** RFC 7638 thumbprint of the public key: the tokens' `kid`. */
  kid: string
  jwk: PublicJwk
}

export async function toSigningKey(privateKey: KeyObject): Promise<SigningKey> {
  const publicKey = createPublicKey(privateKey)
  const { x } = publicKey.export({ format: 'jwk' })
  if (!x) throw new Error('an Ed25519 public key exports an "x" coordinate')
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x }, 'sha256')
  return {
    privateKey,
    publicKey,
    kid,
    jwk: { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' },
  }
}
