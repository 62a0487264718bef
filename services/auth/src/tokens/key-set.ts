// The keys the token service holds: the current one signs, every one verifies
// (chosen by the token's `kid`), and all are published, the current one first.
// Rotating = a new set at the next (rolling) restart; see the README's rotation section.
import type { KeyObject } from 'node:crypto'
import { type PublicJwk, type SigningKey, toSigningKey, toVerificationKey } from './signing-key.js'

export interface KeySet {
  /** Signs every token issued now. */
  current: SigningKey
  /** The public key for each kid of the set, the current one included. */
  byKid: ReadonlyMap<string, KeyObject>
  /** The public keys as GET /auth/.well-known/jwks.json serves them: the current one first. */
  jwks: { keys: PublicJwk[] }
}

export async function createKeySet(signingKey: KeyObject, verifyOnly: readonly KeyObject[]): Promise<KeySet> {
  const current = await toSigningKey(signingKey)
  const byKid = new Map<string, KeyObject>([[current.kid, current.publicKey]])
  const keys: PublicJwk[] = [current.jwk]
  for (const publicKey of verifyOnly) {
    const key = await toVerificationKey(publicKey)
    // The same key configured twice (or the current key also listed to verify) is one entry.
    if (byKid.has(key.kid)) continue
    byKid.set(key.kid, key.publicKey)
    keys.push(key.jwk)
  }
  return { current, byKid, jwks: { keys } }
}
