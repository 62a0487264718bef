// Every service bundles the runtime (src/index.ts and what it imports). The SQL
// parser (libpg-query, WebAssembly), squawk's binary and drizzle-kit are tooling:
// none of them, and nothing under src/authoring, may be reachable from there.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src')

function reachableFrom(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(file, 'utf8')
    for (const [, specifier] of source.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
      if (specifier!.startsWith('.'))
        visit(path.resolve(path.dirname(file), specifier!.replace(/\.js$/, '.ts')))
      else packages.add(specifier!)
    }
  }
  visit(entry)
  return { files, packages }
}

test('the runtime the services bundle reaches no authoring module, parser, linter or drizzle-kit', () => {
  const { files, packages } = reachableFrom(path.join(src, 'index.ts'))
  expect(files.size).toBeGreaterThan(10)
  expect([...files].filter((file) => file.includes(`${path.sep}authoring${path.sep}`))).toEqual([])
  expect([...packages].filter((name) => /libpg-query|squawk|drizzle-kit/.test(name))).toEqual([])
  // And the authoring side does use them, so the check above looks at the right names.
  const authoring = reachableFrom(path.join(src, 'authoring', 'index.ts'))
  expect([...authoring.packages]).toEqual(expect.arrayContaining(['libpg-query', 'node:child_process']))
})
