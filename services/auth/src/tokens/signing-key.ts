// A token key as the token service uses it: its `kid` (the RFC 7638 thumbprint of
// the public key) and its public JWK, as /auth/.well-known/jwks.json publishes it.
import { createPublicKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'

export interface PublicJwk {
  kty: 'OKP'
  crv: 'Ed25519'
  x: string
  kid: string
  alg: 'EdDSA'
  use: 'sig'
}

export interface VerificationKey {
  publicKey: KeyObject
  /** RFC 7638 thumbprint of the public key: the `kid` of the tokens it verifies. */
  kid: string
  jwk: PublicJwk
}

export interface SigningKey extends VerificationKey {
  privateKey: KeyObject
}

export async function toVerificationKey(publicKey: KeyObject): Promise<VerificationKey> {
  const { x } = publicKey.export({ format: 'jwk' })
  if (!x) throw new Error('an Ed25519 public key exports an "x" coordinate')
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x }, 'sha256')
  return { publicKey, kid, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' } }
}

export async function toSigningKey(privateKey: KeyObject): Promise<SigningKey> {
  return { ...(await toVerificationKey(createPublicKey(privateKey))), privateKey }
}
