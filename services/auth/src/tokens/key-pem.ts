// PEM text -> Ed25519 keys, for the token keys' configuration. Only Ed25519 is
// accepted (the contract is EdDSA), and a problem names where the text came from
// (a variable or a file), never the text: it may be a private key.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'

export const SIGNING_KEY_EXPECTED =
  'an Ed25519 private key in PKCS8 PEM (-----BEGIN PRIVATE KEY-----), e.g. from `openssl genpkey -algorithm ed25519`'

const VERIFY_KEYS_EXPECTED =
  'Ed25519 keys in PEM: public (-----BEGIN PUBLIC KEY-----, e.g. from `openssl pkey -pubout`) or private (-----BEGIN PRIVATE KEY-----)'

// One PEM block, label captured; the END label must match the BEGIN one.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

/** Env files and CI secrets often carry a PEM on one line with literal "\n". */
function unescapeNewlines(text: string): string {
  return text.includes('\\n') ? text.replaceAll('\\n', '\n') : text
}

/** The key that signs: exactly one PKCS8 private key. */
export function parseSigningKey(
  text: string,
  where: string,
): { privateKey: KeyObject } | { problem: string } {
  const pem = unescapeNewlines(text)
  if (!pem.includes('-----BEGIN PRIVATE KEY-----')) {
    return { problem: `${where} must be ${SIGNING_KEY_EXPECTED}` }
  }
  if (pem.split('-----BEGIN ').length > 2) {
    return { problem: `${where} holds more than one PEM block; the signing key is exactly one` }
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem' })
  } catch {
    return { problem: `${where} is not a readable PKCS8 PEM private key; expected ${SIGNING_KEY_EXPECTED}` }
  }
  const wrongType = notEd25519(key, where, SIGNING_KEY_EXPECTED)
  return wrongType ? { problem: wrongType } : { privateKey: key }
}

/** Keys that only verify: one or more PEM blocks, public (SPKI) or private (PKCS8, only its public half is kept). */
export function parseVerifyKeys(
  text: string,
  where: string,
): { publicKeys: KeyObject[]; problems: string[] } {
  const pem = unescapeNewlines(text)
  const blocks = [...pem.matchAll(PEM_BLOCK)]
  if (blocks.length === 0) return { publicKeys: [], problems: [`${where} must hold ${VERIFY_KEYS_EXPECTED}`] }
  const problems: string[] = []
  // Whatever is left is a truncated or mangled block, or a stray value: say so, not what it is.
  if (pem.replace(PEM_BLOCK, '').replace(/[\s,]/g, '') !== '') {
    problems.push(
      `${where} holds text outside its PEM blocks (each key from -----BEGIN ...----- to -----END ...-----)`,
    )
  }
  const publicKeys: KeyObject[] = []
  blocks.forEach(([block, label], index) => {
    const which = blocks.length > 1 ? `${where} (key ${index + 1} of ${blocks.length})` : where
    if (label !== 'PUBLIC KEY' && label !== 'PRIVATE KEY') {
      problems.push(`${which} is a "${label}" PEM block; expected ${VERIFY_KEYS_EXPECTED}`)
      return
    }
    let key: KeyObject
    try {
      key =
        label === 'PUBLIC KEY'
          ? createPublicKey({ key: block, format: 'pem' })
          : createPublicKey(createPrivateKey({ key: block, format: 'pem' }))
    } catch {
      problems.push(`${which} is not a readable ${label} PEM; expected ${VERIFY_KEYS_EXPECTED}`)
      return
    }
    const wrongType = notEd25519(key, which, VERIFY_KEYS_EXPECTED)
    if (wrongType) problems.push(wrongType)
    else publicKeys.push(key)
  })
  return { publicKeys, problems }
}

function notEd25519(key: KeyObject, where: string, expected: string): string | undefined {
  if (key.asymmetricKeyType === 'ed25519') return undefined
  return `${where} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; the contract needs ${expected}`
}
