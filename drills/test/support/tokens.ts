// A signing key the drills hand to auth (AUTH_JWT_PRIVATE_KEY), so they can also
// forge what an attacker would try: another key, an expired token, `alg: none`,
// HS256 keyed with the public key, wrong issuer or audience, another typ than
// RFC 9068's at+jwt, a tampered payload (a scope added to a user's token).
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose'

export interface SigningKey {
  privateKey: KeyObject
  /** PKCS8 PEM, as AUTH_JWT_PRIVATE_KEY takes it. */
  pem: string
  kid: string
  /** The public key's `x`, which an attacker reads from the JWKS. */
  x: string
}

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const jwk = await exportJWK(publicKey)
  return {
    privateKey,
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    kid: await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x! }, 'sha256'),
    x: jwk.x!,
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** auth's defaults: AUTH_ISSUER and AUTH_TOKEN_AUDIENCES, as the drills run it. */
const ISSUER = 'http://localhost:5008'
const AUDIENCES = ['auth', 'billing']

interface Claims {
  sub: string
  username: string
  iss?: string
  aud?: string | string[]
  scope?: string
  /** The header's typ; null for none. */
  typ?: string | null
  iat?: number
  exp?: number
}

async function sign(key: KeyObject, kid: string, claims: Claims): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const typ = claims.typ === undefined ? 'at+jwt' : claims.typ
  return new SignJWT({ username: claims.username, ...(claims.scope ? { scope: claims.scope } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', kid, ...(typ === null ? {} : { typ }) })
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCES)
    .setSubject(claims.sub)
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 900)
    .sign(key)
}

/** A token exactly as auth would issue it, signed with its key (an admin's with the admin scope). */
export function validToken(
  key: SigningKey,
  user: { id: string; username: string },
  scope?: string,
): Promise<string> {
  return sign(key.privateKey, key.kid, { sub: user.id, username: user.username, ...(scope ? { scope } : {}) })
}

/** Tokens both services must refuse, by what is wrong with them. */
export async function forgedTokens(
  key: SigningKey,
  user: { id: string; username: string },
): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: user.id, username: user.username }
  const payload = { ...claims, iss: ISSUER, aud: AUDIENCES, iat: now, exp: now + 900 }
  const other = await newSigningKey()
  const valid = await validToken(key, user)
  const [header, , signature] = valid.split('.')
  return {
    'signed by another key': await sign(other.privateKey, other.kid, claims),
    "signed by another key under auth's kid": await sign(other.privateKey, key.kid, claims),
    // Beyond billing's clock tolerance (5 s by default) by far.
    expired: await sign(key.privateKey, key.kid, { ...claims, iat: now - 7200, exp: now - 3600 }),
    'alg none': `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(payload)}.`,
    "alg none under auth's kid": `${b64({ alg: 'none', kid: key.kid, typ: 'at+jwt' })}.${b64(payload)}.`,
    'HS256 keyed with the public key': await new SignJWT({ username: user.username })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCES)
      .setSubject(user.id)
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .sign(Buffer.from(key.x, 'base64url')),
    'wrong issuer': await sign(key.privateKey, key.kid, { ...claims, iss: 'https://evil.example' }),
    'the bare issuer of old': await sign(key.privateKey, key.kid, { ...claims, iss: 'auth' }),
    'wrong audience': await sign(key.privateKey, key.kid, { ...claims, aud: 'evil' }),
    'the shared audience of old': await sign(key.privateKey, key.kid, { ...claims, aud: 'services' }),
    // Correctly signed, but not an access token (RFC 9068's typ): an ID token, say.
    'typ JWT': await sign(key.privateKey, key.kid, { ...claims, typ: 'JWT' }),
    'no typ': await sign(key.privateKey, key.kid, { ...claims, typ: null }),
    'tampered payload': `${header}.${b64({ ...payload, username: 'admin' })}.${signature}`,
    "a user's token with the admin scope added": `${header}.${b64({ ...payload, scope: 'users:read billing:plans:write' })}.${signature}`,
  }
}
