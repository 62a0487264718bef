import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConfigError } from '@app/service'
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../src/config.js'
import { toSigningKey } from '../src/tokens/signing-key.js'

const base = { DATABASE_URL: 'postgres://auth:pw@127.0.0.1:5432/app' }
/** Every setting but the token keys needs one current key to load at all. */
const keyed = () => ({ ...base, AUTH_JWT_PRIVATE_KEY: pem() })
const pem = (type: 'ed25519' | 'ec' = 'ed25519') =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('ed25519').privateKey
  )
    .export({ format: 'pem', type: 'pkcs8' })
    .toString()

function problem(env: Record<string, string>): string {
  try {
    loadConfig({ ...base, ...env })
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('loadConfig accepted it')
}

describe('signing key', () => {
  test('none configured: startup fails naming every place a key can come from, and the development switch', () => {
    const message = problem({})
    expect(message).toMatch(/^invalid configuration:\n {2}no token signing key configured/)
    for (const name of ['AUTH_JWT_PRIVATE_KEY', 'AUTH_JWT_PRIVATE_KEY_FILE', 'AUTH_JWT_KEYS_DIR']) {
      expect(message).toContain(`${name} (`)
    }
    expect(message).toMatch(/For development only, set DEV_SECRETS_DIR .* auth creates a key there/)
  })

  test('one key configured: it signs, nothing else verifies, and the defaults of the contract', () => {
    const config = loadConfig(keyed())
    expect(config.jwt).toMatchObject({
      keySource: 'AUTH_JWT_PRIVATE_KEY',
      keyFile: null,
      verifyKeys: [],
      issuer: 'http://localhost:5008',
      audiences: ['auth', 'billing'],
      ttlSeconds: 900,
    })
    expect(config.port).toBe(5008)
    expect(config.tokenRateLimit).toMatchObject({ max: 10, windowMs: 60_000 })
  })

  test('from AUTH_JWT_PRIVATE_KEY, also with literal \\n escapes', () => {
    const key = pem()
    expect(loadConfig({ ...base, AUTH_JWT_PRIVATE_KEY: key }).jwt.keySource).toBe('AUTH_JWT_PRIVATE_KEY')
    const oneLine = key.trim().replaceAll('\n', '\\n')
    expect(loadConfig({ ...base, AUTH_JWT_PRIVATE_KEY: oneLine }).jwt.privateKey?.asymmetricKeyType).toBe(
      'ed25519',
    )
  })

  test('from AUTH_JWT_PRIVATE_KEY_FILE', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'auth-key-')), 'key.pem')
    writeFileSync(file, pem())
    expect(loadConfig({ ...base, AUTH_JWT_PRIVATE_KEY_FILE: file }).jwt).toMatchObject({
      keySource: 'AUTH_JWT_PRIVATE_KEY_FILE',
      keyFile: file,
    })
  })

  test('bad key settings name the variable and never print the key', () => {
    const ec = pem('ec')
    expect(problem({ AUTH_JWT_PRIVATE_KEY: 'hunter2-not-a-key' })).toMatch(
      /^invalid configuration:\n {2}AUTH_JWT_PRIVATE_KEY must be/,
    )
    expect(problem({ AUTH_JWT_PRIVATE_KEY: 'hunter2-not-a-key' })).not.toContain('hunter2')
    const broken = `-----BEGIN PRIVATE KEY-----\nhunter2\n-----END PRIVATE KEY-----\n`
    expect(problem({ AUTH_JWT_PRIVATE_KEY: broken })).toContain('AUTH_JWT_PRIVATE_KEY is not a readable')
    expect(problem({ AUTH_JWT_PRIVATE_KEY: broken })).not.toContain('hunter2')
    const wrongType = problem({ AUTH_JWT_PRIVATE_KEY: ec })
    expect(wrongType).toContain('AUTH_JWT_PRIVATE_KEY is a ec key')
    expect(wrongType).not.toContain(ec.split('\n')[1]!)
    expect(problem({ AUTH_JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' })).toContain(
      'AUTH_JWT_PRIVATE_KEY_FILE cannot be read (ENOENT)',
    )
    expect(problem({ AUTH_JWT_PRIVATE_KEY: pem(), AUTH_JWT_PRIVATE_KEY_FILE: '/x' })).toContain(
      'AUTH_JWT_PRIVATE_KEY and AUTH_JWT_PRIVATE_KEY_FILE are both set',
    )
  })

  test('other auth settings are checked too', () => {
    expect(problem({ AUTH_TOKEN_TTL_SECONDS: '5' })).toContain('AUTH_TOKEN_TTL_SECONDS')
    expect(problem({ AUTH_TOKEN_RATE_LIMIT_MAX: '0' })).toContain('AUTH_TOKEN_RATE_LIMIT_MAX')
  })
})

/** A fresh Ed25519 key and its PEM texts. */
function newKey() {
  const { privateKey } = generateKeyPairSync('ed25519')
  return {
    privateKey,
    publicKey: createPublicKey(privateKey),
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString(),
  }
}

const rsaPem = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString()
const ecPublicPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ format: 'pem', type: 'spki' })
    .toString()

/** The base64 lines of a PEM: what must never appear in a message. */
const body = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('-----'))

function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'auth-keys-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text)
  return dir
}

const kidOf = async (key: KeyObject) => (await toSigningKey(key)).kid

describe('AUTH_JWT_KEYS_DIR', () => {
  test('current.pem is the current key; every other *.pem only verifies, public or private; the rest is ignored', () => {
    const [current, b, c] = [newKey(), newKey(), newKey()]
    const dir = tempDir({
      'current.pem': current.pem,
      'b.pem': b.publicPem,
      'c.pem': c.pem,
      'notes.txt': 'hunter2',
      '.editor-backup.pem': 'hunter2',
    })
    // A Kubernetes Secret volume: key files beside hidden ..data and timestamped folders.
    mkdirSync(path.join(dir, '..data'))
    const jwt = loadConfig({ ...base, AUTH_JWT_KEYS_DIR: dir }).jwt
    expect(jwt).toMatchObject({ keySource: 'AUTH_JWT_KEYS_DIR', keyFile: path.join(dir, 'current.pem') })
    expect(jwt.privateKey.equals(current.privateKey)).toBe(true)
    expect(jwt.verifyKeys.map((key) => key.source)).toEqual([
      path.join(dir, 'b.pem'),
      path.join(dir, 'c.pem'),
    ])
    expect(jwt.verifyKeys[0]!.publicKey.equals(b.publicKey)).toBe(true)
    // Only the public half of a private key that verifies is kept.
    expect(jwt.verifyKeys[1]!.publicKey.type).toBe('public')
    expect(jwt.verifyKeys[1]!.publicKey.equals(c.publicKey)).toBe(true)
  })

  test('without current.pem: verification keys beside a current key from AUTH_JWT_PRIVATE_KEY_FILE', () => {
    const [current, old] = [newKey(), newKey()]
    const keyFile = path.join(tempDir({ 'key.pem': current.pem }), 'key.pem')
    const jwt = loadConfig({
      ...base,
      AUTH_JWT_PRIVATE_KEY_FILE: keyFile,
      AUTH_JWT_KEYS_DIR: tempDir({ 'old.pem': old.publicPem }),
    }).jwt
    expect(jwt.keySource).toBe('AUTH_JWT_PRIVATE_KEY_FILE')
    expect(jwt.privateKey.equals(current.privateKey)).toBe(true)
    expect(jwt.verifyKeys.map((key) => key.publicKey.equals(old.publicKey))).toEqual([true])
  })

  test('without current.pem and no other current key: an error, which DEV_SECRETS_DIR does not paper over', () => {
    const dir = tempDir({ 'old.pem': newKey().publicPem })
    const devDir = path.join(tempDir(), 'secrets')
    const message = problem({ AUTH_JWT_KEYS_DIR: dir, DEV_SECRETS_DIR: devDir })
    expect(message).toContain('no token signing key configured')
    expect(message).toContain(`AUTH_JWT_KEYS_DIR ${JSON.stringify(dir)} has no current.pem`)
    expect(existsSync(devDir)).toBe(false)
  })

  test('current.pem beside another current key: an error naming both, or all three', () => {
    const dir = tempDir({ 'current.pem': pem() })
    expect(problem({ AUTH_JWT_PRIVATE_KEY: pem(), AUTH_JWT_KEYS_DIR: dir })).toContain(
      "AUTH_JWT_PRIVATE_KEY and AUTH_JWT_KEYS_DIR's current.pem are both set: set only one",
    )
    expect(
      problem({ AUTH_JWT_PRIVATE_KEY: pem(), AUTH_JWT_PRIVATE_KEY_FILE: '/x', AUTH_JWT_KEYS_DIR: dir }),
    ).toContain(
      "AUTH_JWT_PRIVATE_KEY, AUTH_JWT_PRIVATE_KEY_FILE and AUTH_JWT_KEYS_DIR's current.pem are all set",
    )
  })
})

describe('AUTH_JWT_VERIFY_KEYS', () => {
  test('one or more PEM blocks, public or private, also on one line with literal \\n', () => {
    const [b, c] = [newKey(), newKey()]
    for (const value of [
      `${b.publicPem}\n${c.pem}`,
      `${b.publicPem.trim()}\\n${c.pem.trim()}`.replaceAll('\n', '\\n'),
    ]) {
      const jwt = loadConfig({ ...keyed(), AUTH_JWT_VERIFY_KEYS: value }).jwt
      expect(jwt.verifyKeys.map((key) => key.source)).toEqual([
        'AUTH_JWT_VERIFY_KEYS',
        'AUTH_JWT_VERIFY_KEYS',
      ])
      expect(jwt.verifyKeys[0]!.publicKey.equals(b.publicKey)).toBe(true)
      expect(jwt.verifyKeys[1]!.publicKey.type).toBe('public')
      expect(jwt.verifyKeys[1]!.publicKey.equals(c.publicKey)).toBe(true)
    }
  })

  test('the same key twice, or the current key again, is accepted', () => {
    const key = newKey()
    const jwt = loadConfig({
      ...base,
      AUTH_JWT_PRIVATE_KEY: key.pem,
      AUTH_JWT_VERIFY_KEYS: `${key.publicPem}${key.publicPem}${key.pem}`,
    }).jwt
    expect(jwt.verifyKeys.every((entry) => entry.publicKey.equals(key.publicKey))).toBe(true)
  })
})

describe('refused keys name the variable or file, never the key', () => {
  const ed = newKey()
  const rsa = rsaPem()
  const ecPublic = ecPublicPem()
  const broken = (label: string) => `-----BEGIN ${label}-----\nhunter2\n-----END ${label}-----\n`
  const dir = tempDir({ 'current.pem': ed.pem, 'old-rsa.pem': rsa })
  const ecDir = tempDir({
    'current.pem': generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString(),
  })
  const publicDir = tempDir({ 'current.pem': ed.publicPem })

  const cases: [string, Record<string, string>, string, string[]][] = [
    [
      'an EC public key',
      { AUTH_JWT_VERIFY_KEYS: `${ed.publicPem}${ecPublic}` },
      'AUTH_JWT_VERIFY_KEYS (key 2 of 2) is a ec key',
      body(ecPublic),
    ],
    ['an RSA private key', { AUTH_JWT_VERIFY_KEYS: rsa }, 'AUTH_JWT_VERIFY_KEYS is a rsa key', body(rsa)],
    [
      'no PEM at all',
      { AUTH_JWT_VERIFY_KEYS: 'hunter2' },
      'AUTH_JWT_VERIFY_KEYS must hold Ed25519 keys in PEM',
      ['hunter2'],
    ],
    [
      'an unreadable block',
      { AUTH_JWT_VERIFY_KEYS: broken('PRIVATE KEY') },
      'AUTH_JWT_VERIFY_KEYS is not a readable PRIVATE KEY PEM',
      ['hunter2'],
    ],
    [
      'another kind of block',
      { AUTH_JWT_VERIFY_KEYS: broken('CERTIFICATE') },
      'AUTH_JWT_VERIFY_KEYS is a "CERTIFICATE" PEM block',
      ['hunter2'],
    ],
    [
      'text around the blocks',
      { AUTH_JWT_VERIFY_KEYS: `hunter2\n${ed.pem}` },
      'AUTH_JWT_VERIFY_KEYS holds text outside its PEM blocks',
      ['hunter2', ...body(ed.pem)],
    ],
    [
      'an RSA key in the directory',
      { AUTH_JWT_KEYS_DIR: dir },
      `AUTH_JWT_KEYS_DIR file ${JSON.stringify(path.join(dir, 'old-rsa.pem'))} is a rsa key`,
      [...body(rsa), ...body(ed.pem)],
    ],
    [
      'an EC current.pem',
      { AUTH_JWT_KEYS_DIR: ecDir },
      `AUTH_JWT_KEYS_DIR file ${JSON.stringify(path.join(ecDir, 'current.pem'))} is a ec key`,
      [],
    ],
    [
      'a public current.pem',
      { AUTH_JWT_KEYS_DIR: publicDir },
      `AUTH_JWT_KEYS_DIR file ${JSON.stringify(path.join(publicDir, 'current.pem'))} must be an Ed25519 private key`,
      body(ed.publicPem),
    ],
    [
      'a directory that is not there',
      { AUTH_JWT_KEYS_DIR: '/nonexistent/keys' },
      'AUTH_JWT_KEYS_DIR cannot be read (ENOENT): "/nonexistent/keys"',
      [],
    ],
  ]
  test.each(cases)('%s', (_name, env, expected, secrets) => {
    const message = problem({ ...(env.AUTH_JWT_KEYS_DIR ? {} : { AUTH_JWT_PRIVATE_KEY: ed.pem }), ...env })
    expect(message).toContain(expected)
    for (const secret of secrets) expect(message).not.toContain(secret)
  })

  test('every refused key is named at once', () => {
    const message = problem({ AUTH_JWT_KEYS_DIR: dir, AUTH_JWT_VERIFY_KEYS: ecPublic })
    expect(message).toContain('AUTH_JWT_VERIFY_KEYS is a ec key')
    expect(message).toContain('old-rsa.pem')
  })
})

describe('DEV_SECRETS_DIR, with no key configured', () => {
  test('creates auth-jwt-signing-key.pem once (directory 0700, file 0600); the next start uses the same key', async () => {
    const dir = path.join(tempDir(), 'nested', 'secrets')
    const file = path.join(dir, 'auth-jwt-signing-key.pem')
    const first = loadConfig({ ...base, DEV_SECRETS_DIR: dir }).jwt
    expect(first).toMatchObject({ keySource: 'DEV_SECRETS_DIR', keyFile: file, verifyKeys: [] })
    expect(readdirSync(dir)).toEqual(['auth-jwt-signing-key.pem'])
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const text = readFileSync(file, 'utf8')
    expect(text).toMatch(/^-----BEGIN PRIVATE KEY-----/)

    const second = loadConfig({ ...base, DEV_SECRETS_DIR: dir }).jwt
    expect(await kidOf(second.privateKey)).toBe(await kidOf(first.privateKey))
    expect(readFileSync(file, 'utf8')).toBe(text)
  })

  test('a configured key wins, and DEV_SECRETS_DIR is left untouched; without it, the directory is used', () => {
    const dir = path.join(tempDir(), 'secrets')
    expect(loadConfig({ ...keyed(), DEV_SECRETS_DIR: dir }).jwt.keySource).toBe('AUTH_JWT_PRIVATE_KEY')
    expect(existsSync(dir)).toBe(false)
    expect(loadConfig({ ...base, DEV_SECRETS_DIR: dir }).jwt.keySource).toBe('DEV_SECRETS_DIR')
    expect(existsSync(dir)).toBe(true)
  })

  test('a damaged development key names its file, not its text, and how to recover', () => {
    const dir = tempDir({ 'auth-jwt-signing-key.pem': 'hunter2' })
    const message = problem({ DEV_SECRETS_DIR: dir })
    expect(message).toContain(
      `DEV_SECRETS_DIR file ${JSON.stringify(path.join(dir, 'auth-jwt-signing-key.pem'))} must be`,
    )
    expect(message).toContain('delete the file and auth creates a new key')
    expect(message).not.toContain('hunter2')
  })

  test('a directory that cannot be created names the variable', () => {
    const notADir = path.join(tempDir({ file: '' }), 'file')
    expect(problem({ DEV_SECRETS_DIR: path.join(notADir, 'secrets') })).toContain(
      'DEV_SECRETS_DIR: cannot read or create',
    )
  })
})

describe('AUTH_ISSUER and AUTH_TOKEN_AUDIENCES', () => {
  test('the issuer is an absolute http(s) URL without a path; anything else names the variable', () => {
    expect(loadConfig({ ...keyed(), AUTH_ISSUER: 'https://auth.example.com' }).jwt.issuer).toBe(
      'https://auth.example.com',
    )
    for (const issuer of [
      'auth',
      'auth.example.com',
      'https://auth.example.com/',
      'https://a.example/auth',
      'ftp://a.example',
    ]) {
      expect(problem({ ...keyed(), AUTH_ISSUER: issuer }), issuer).toContain('AUTH_ISSUER must match pattern')
    }
  })

  test('audiences: comma-separated service names, auth among them; a bad list names the variable', () => {
    expect(loadConfig({ ...keyed(), AUTH_TOKEN_AUDIENCES: 'auth,billing,shop' }).jwt.audiences).toEqual([
      'auth',
      'billing',
      'shop',
    ])
    expect(problem({ ...keyed(), AUTH_TOKEN_AUDIENCES: 'billing' })).toContain(
      'AUTH_TOKEN_AUDIENCES must include auth',
    )
    for (const list of ['auth, billing', 'auth,,billing', 'Auth', 'auth,']) {
      expect(problem({ ...keyed(), AUTH_TOKEN_AUDIENCES: list }), list).toContain(
        'AUTH_TOKEN_AUDIENCES must match pattern',
      )
    }
  })

  test('the retired AUTH_AUDIENCE is refused, pointing at AUTH_TOKEN_AUDIENCES', () => {
    expect(problem({ ...keyed(), AUTH_AUDIENCE: 'services' })).toMatch(
      /AUTH_AUDIENCE is no longer read by auth.*AUTH_TOKEN_AUDIENCES/,
    )
  })
})

describe('AUTH_CORS_ORIGINS', () => {
  test("defaults to billing's local docs origins", () => {
    expect(loadConfig(keyed()).tokenCorsOrigins).toEqual(['http://localhost:5009', 'http://127.0.0.1:5009'])
  })

  test('a comma-separated list, written as browsers send Origin; or *', () => {
    const origins = (value: string) => loadConfig({ ...keyed(), AUTH_CORS_ORIGINS: value }).tokenCorsOrigins
    expect(origins('https://Docs.Example.com/ , http://10.0.0.5:5009')).toEqual([
      'https://docs.example.com',
      'http://10.0.0.5:5009',
    ])
    expect(origins('*')).toEqual(['*'])
  })

  test('a path, a bare host or a list around * names the variable', () => {
    for (const value of ['http://localhost:5009/docs', 'localhost:5009', 'http://a:1,*', 'http://a:1,']) {
      expect(problem({ AUTH_CORS_ORIGINS: value }), value).toContain('AUTH_CORS_ORIGINS')
    }
  })
})
