// Development-only secrets kept in DEV_SECRETS_DIR: read if present, else created
// once. Replicas that start together race for the file, so creation is exclusive
// and a reader never sees a half-written one: the secret is written to a temp file
// in the same directory, then hard-linked to its name, which fails with EEXIST if
// another process got there first (then its secret is the one everybody uses).
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'

export interface DevSecret {
  text: string
  file: string
  /** True when this call created the file. */
  created: boolean
}

/** Throws the file system's error (with its `code`) when the directory or file cannot be used. */
export function readOrCreateDevSecret(dir: string, name: string, make: () => string): DevSecret {
  const file = path.resolve(dir, name)
  const existing = readIfExists(file)
  if (existing !== undefined) return { text: existing, file, created: false }

  // Secrets: only the owner may list the directory or read the file.
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const text = make()
  const temp = path.join(path.dirname(file), `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = openSync(temp, 'wx', 0o600)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temp, file)
    return { text, file, created: true }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return { text: readFileSync(file, 'utf8'), file, created: false }
  } finally {
    rmSync(temp, { force: true })
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
