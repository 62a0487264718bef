// Adds up the figures every drill file saved (figures.ts) and prints them once, at
// the end of the run.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Figures } from './figures.js'

export function collectFigures(dir: string): Figures & { files: number } {
  const total: Figures & { files: number } = {
    files: 0,
    requests: 0,
    hostileRequests: 0,
    faults: {},
    rowsWritten: 0,
    rowsFound: 0,
  }
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const figures = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Figures
    total.files += 1
    total.requests += figures.requests
    total.hostileRequests += figures.hostileRequests
    total.rowsWritten += figures.rowsWritten
    total.rowsFound += figures.rowsFound
    for (const [kind, n] of Object.entries(figures.faults)) total.faults[kind] = (total.faults[kind] ?? 0) + n
  }
  return total
}

export function formatReport(total: ReturnType<typeof collectFigures>): string {
  const faults = Object.values(total.faults).reduce((sum, n) => sum + n, 0)
  const kinds = Object.entries(total.faults)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ')
  const lost = total.rowsWritten - total.rowsFound
  return [
    `drills report (${total.files} drill files)`,
    `  requests tried   ${total.requests} (${total.hostileRequests} of them hostile; readiness polls not counted)`,
    `  faults injected  ${faults}${kinds ? ` (${kinds})` : ''}`,
    `  rows written     ${total.rowsWritten} acknowledged, ${total.rowsFound} found in the database`,
    `  rows lost        ${lost}${lost === 0 ? '' : '  <-- MUST BE 0'}`,
  ].join('\n')
}
