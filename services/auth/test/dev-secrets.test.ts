// DEV_SECRETS_DIR's files: created once, exclusively, and never seen half-written.
// The race between replicas is staged here without mocks: `make` runs after this
// caller found no file and before it links its own into place, so a `make` that
// writes the file itself is another process winning in between.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expect, test } from 'vitest'
import { readOrCreateDevSecret } from '../src/dev-secrets.js'

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'dev-secrets-'))

test('the first call creates the file; later calls read it and make nothing', () => {
  const dir = tempDir()
  const file = path.join(dir, 'secret.pem')
  expect(readOrCreateDevSecret(dir, 'secret.pem', () => 'first')).toEqual({
    text: 'first',
    file,
    created: true,
  })
  const again = readOrCreateDevSecret(dir, 'secret.pem', () => {
    throw new Error('must not make a second secret')
  })
  expect(again).toEqual({ text: 'first', file, created: false })
  expect(readdirSync(dir)).toEqual(['secret.pem'])
})

test('another process creating it first wins: its secret is used, ours discarded, no temp file left', () => {
  const dir = tempDir()
  const file = path.join(dir, 'secret.pem')
  const result = readOrCreateDevSecret(dir, 'secret.pem', () => {
    writeFileSync(file, 'winner', { flag: 'wx' })
    return 'loser'
  })
  expect(result).toEqual({ text: 'winner', file, created: false })
  expect(readFileSync(file, 'utf8')).toBe('winner')
  expect(readdirSync(dir)).toEqual(['secret.pem'])
})
