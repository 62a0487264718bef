// The service template, checked into the repository: templates/new-service/files
// mirrors the repository root (services/__name__/..., infra/k8s/base/__name__/...),
// placeholders in paths and contents; templates/new-service/inserts holds what is
// added to files every service shares (see shared-edits.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { fillTokens, type Tokens, unfilledTokens } from './tokens.js'

/** packages/ops/templates/new-service, from src/ or dist/ alike. */
export const TEMPLATE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'templates',
  'new-service',
)

export interface PlannedFile {
  /** Relative to the repository root. */
  file: string
  content: string
}

/** Every file of the template, placeholders filled, as it will be written (nothing is written here). */
export function renderTemplate(tokens: Tokens, templateDir = TEMPLATE_DIR): PlannedFile[] {
  const files = path.join(templateDir, 'files')
  const planned = readdirSync(files, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const source = path.join(entry.parentPath, entry.name)
      return {
        file: fillTokens(path.relative(files, source), tokens),
        content: fillTokens(readFileSync(source, 'utf8'), tokens),
      }
    })
    .sort((a, b) => a.file.localeCompare(b.file))
  for (const { file, content } of planned) {
    const left = unfilledTokens(`${file}\n${content}`)
    if (left.length > 0) throw new Error(`template: ${file} has unknown placeholders ${left.join(', ')}`)
  }
  return planned
}

/** A snippet from templates/new-service/inserts, placeholders filled. */
export function renderInsert(name: string, tokens: Tokens, templateDir = TEMPLATE_DIR): string {
  const file = path.join(templateDir, 'inserts', name)
  if (!existsSync(file)) throw new Error(`template: inserts/${name} is missing`)
  const content = fillTokens(readFileSync(file, 'utf8'), tokens)
  const left = unfilledTokens(content)
  if (left.length > 0)
    throw new Error(`template: inserts/${name} has unknown placeholders ${left.join(', ')}`)
  return content
}
