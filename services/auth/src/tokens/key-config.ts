// Where auth's token keys come from, read once at startup: the current key (it
// signs) from AUTH_JWT_PRIVATE_KEY, AUTH_JWT_PRIVATE_KEY_FILE or current.pem in
// AUTH_JWT_KEYS_DIR; keys that only verify from AUTH_JWT_VERIFY_KEYS and the other
// *.pem files of that directory. With no current key, only DEV_SECRETS_DIR (the
// explicit development switch) makes one; anything else is a config error.
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { readOrCreateDevSecret } from '../dev-secrets.js'
import { parseSigningKey, parseVerifyKeys } from './key-pem.js'

export type SigningKeySource =
  | 'AUTH_JWT_PRIVATE_KEY'
  | 'AUTH_JWT_PRIVATE_KEY_FILE'
  | 'AUTH_JWT_KEYS_DIR'
  | 'DEV_SECRETS_DIR'

/** In AUTH_JWT_KEYS_DIR, the file holding the current key; every other *.pem only verifies. */
export const CURRENT_KEY_FILE = 'current.pem'
/** In DEV_SECRETS_DIR, the development signing key shared by every local replica. */
export const DEVELOPMENT_KEY_FILE = 'auth-jwt-signing-key.pem'

export interface KeyEnv {
  AUTH_JWT_PRIVATE_KEY?: string | undefined
  AUTH_JWT_PRIVATE_KEY_FILE?: string | undefined
  AUTH_JWT_KEYS_DIR?: string | undefined
  AUTH_JWT_VERIFY_KEYS?: string | undefined
  DEV_SECRETS_DIR?: string | undefined
}

export interface VerifyKey {
  publicKey: KeyObject
  /** AUTH_JWT_VERIFY_KEYS, or the file it was read from (for the startup log). */
  source: string
}

export interface TokenKeys {
  /** The current key: it signs every token issued, and verifies. */
  privateKey: KeyObject
  keySource: SigningKeySource
  /** The file the current key was read from (or created in); null when inline. */
  keyFile: string | null
  /** Keys that verify but never sign: the previous one during a rotation, or the next one before it signs. */
  verifyKeys: readonly VerifyKey[]
}

const MISSING =
  'no token signing key configured: set AUTH_JWT_PRIVATE_KEY (PKCS8 PEM), AUTH_JWT_PRIVATE_KEY_FILE (a file holding it) or AUTH_JWT_KEYS_DIR (a directory holding current.pem). ' +
  'For development only, set DEV_SECRETS_DIR (a directory where services may create and keep development-only secrets; make dev sets it) and auth creates a key there.'

/** Never includes a key's text in a problem: it may be a secret. */
export function readTokenKeys(env: KeyEnv): TokenKeys | { problems: string[] } {
  const problems: string[] = []
  const dir = env.AUTH_JWT_KEYS_DIR === undefined ? undefined : readKeysDir(env.AUTH_JWT_KEYS_DIR)
  if (dir) problems.push(...dir.problems)

  const current = readCurrentKey(env, dir?.current)
  // An unreadable directory is named already; "it has no current.pem" would add nothing.
  if ('problem' in current && !dir?.unreadable) problems.push(current.problem)

  const verifyKeys: VerifyKey[] = []
  const addVerifyKeys = (text: string, source: string, where: string) => {
    const parsed = parseVerifyKeys(text, where)
    problems.push(...parsed.problems)
    for (const publicKey of parsed.publicKeys) verifyKeys.push({ publicKey, source })
  }
  if (env.AUTH_JWT_VERIFY_KEYS !== undefined) {
    addVerifyKeys(env.AUTH_JWT_VERIFY_KEYS, 'AUTH_JWT_VERIFY_KEYS', 'AUTH_JWT_VERIFY_KEYS')
  }
  for (const other of dir?.others ?? []) addVerifyKeys(other.text, other.file, inDir(other.file))

  if (problems.length > 0 || 'problem' in current) return { problems }
  return { ...current, verifyKeys }
}

interface KeyFile {
  file: string
  text: string
}

function readCurrentKey(
  env: KeyEnv,
  inKeysDir: KeyFile | undefined,
): Omit<TokenKeys, 'verifyKeys'> | { problem: string } {
  const configured = [
    env.AUTH_JWT_PRIVATE_KEY !== undefined && 'AUTH_JWT_PRIVATE_KEY',
    env.AUTH_JWT_PRIVATE_KEY_FILE !== undefined && 'AUTH_JWT_PRIVATE_KEY_FILE',
    inKeysDir && `AUTH_JWT_KEYS_DIR's ${CURRENT_KEY_FILE}`,
  ].filter((name): name is string => typeof name === 'string')
  if (configured.length > 1) {
    const names = `${configured.slice(0, -1).join(', ')} and ${configured.at(-1)}`
    return {
      problem: `${names} are ${configured.length === 2 ? 'both' : 'all'} set: set only one (the current signing key)`,
    }
  }

  if (env.AUTH_JWT_PRIVATE_KEY !== undefined) {
    return withSource(
      parseSigningKey(env.AUTH_JWT_PRIVATE_KEY, 'AUTH_JWT_PRIVATE_KEY'),
      'AUTH_JWT_PRIVATE_KEY',
      null,
    )
  }
  if (env.AUTH_JWT_PRIVATE_KEY_FILE !== undefined) {
    const file = env.AUTH_JWT_PRIVATE_KEY_FILE
    const text = readText(file, 'AUTH_JWT_PRIVATE_KEY_FILE')
    if (typeof text !== 'string') return text
    return withSource(parseSigningKey(text, 'AUTH_JWT_PRIVATE_KEY_FILE'), 'AUTH_JWT_PRIVATE_KEY_FILE', file)
  }
  if (inKeysDir) {
    return withSource(
      parseSigningKey(inKeysDir.text, inDir(inKeysDir.file)),
      'AUTH_JWT_KEYS_DIR',
      inKeysDir.file,
    )
  }
  // A keys directory without current.pem is a deployment mistake, not a development
  // setup: it must not be papered over by a development key.
  if (env.AUTH_JWT_KEYS_DIR !== undefined) {
    return {
      problem: `${MISSING} (AUTH_JWT_KEYS_DIR ${JSON.stringify(env.AUTH_JWT_KEYS_DIR)} has no ${CURRENT_KEY_FILE})`,
    }
  }
  if (env.DEV_SECRETS_DIR !== undefined) return developmentKey(env.DEV_SECRETS_DIR)
  return { problem: MISSING }
}

function withSource(
  parsed: ReturnType<typeof parseSigningKey>,
  keySource: SigningKeySource,
  keyFile: string | null,
): Omit<TokenKeys, 'verifyKeys'> | { problem: string } {
  return 'problem' in parsed ? parsed : { privateKey: parsed.privateKey, keySource, keyFile }
}

/** ${DEV_SECRETS_DIR}/auth-jwt-signing-key.pem, created with a fresh key the first time. */
function developmentKey(dir: string): Omit<TokenKeys, 'verifyKeys'> | { problem: string } {
  const file = path.resolve(dir, DEVELOPMENT_KEY_FILE)
  let text: string
  try {
    ;({ text } = readOrCreateDevSecret(dir, DEVELOPMENT_KEY_FILE, () =>
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    ))
  } catch (error) {
    return { problem: `DEV_SECRETS_DIR: cannot read or create ${JSON.stringify(file)} (${errorCode(error)})` }
  }
  const parsed = parseSigningKey(text, `DEV_SECRETS_DIR file ${JSON.stringify(file)}`)
  if ('problem' in parsed) return { problem: `${parsed.problem}; delete the file and auth creates a new key` }
  return { privateKey: parsed.privateKey, keySource: 'DEV_SECRETS_DIR', keyFile: file }
}

interface KeysDir {
  current?: KeyFile
  others: KeyFile[]
  problems: string[]
  unreadable?: true
}

/**
 * The directory's *.pem files, by name. Hidden entries are skipped: a Kubernetes
 * Secret volume holds `..data` and timestamped folders beside its key files.
 */
function readKeysDir(dir: string): KeysDir {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    return {
      others: [],
      problems: [`AUTH_JWT_KEYS_DIR cannot be read (${errorCode(error)}): ${JSON.stringify(dir)}`],
      unreadable: true,
    }
  }
  const result: KeysDir = { others: [], problems: [] }
  for (const name of names.filter((n) => n.endsWith('.pem') && !n.startsWith('.')).sort()) {
    const file = path.join(dir, name)
    const text = readText(file, 'AUTH_JWT_KEYS_DIR file')
    if (typeof text !== 'string') result.problems.push(text.problem)
    else if (name === CURRENT_KEY_FILE) result.current = { file, text }
    else result.others.push({ file, text })
  }
  return result
}

const inDir = (file: string) => `AUTH_JWT_KEYS_DIR file ${JSON.stringify(file)}`

/** `variable` names what pointed at the file; the path is not a secret, its content may be. */
function readText(file: string, variable: string): string | { problem: string } {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    return { problem: `${variable} cannot be read (${errorCode(error)}): ${JSON.stringify(file)}` }
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message
}
