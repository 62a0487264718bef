// The run's figures: requests tried, faults injected, rows written and found. Each
// test file counts in its own worker and saves its figures after its tests; the
// global teardown adds them up and prints them (see report.ts).
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { inject } from 'vitest'

export interface Figures {
  /** Every HTTP request the drills sent (or tried to send) to a service. */
  requests: number
  /** Of those, the ones built to be hostile (generated from the schemas or hand-picked). */
  hostileRequests: number
  /** Faults by kind: kill -9, SIGTERM under load, database stopped, ... */
  faults: Record<string, number>
  /** Rows a service acknowledged (2xx with the new row's id). */
  rowsWritten: number
  /** Of those, the ones the database holds afterwards. */
  rowsFound: number
}

export const figures: Figures = { requests: 0, hostileRequests: 0, faults: {}, rowsWritten: 0, rowsFound: 0 }

export function countFault(kind: string): void {
  figures.faults[kind] = (figures.faults[kind] ?? 0) + 1
}

/** Records a reconciliation of acknowledged writes against the database; returns the rows lost. */
export function countRows(written: number, found: number): number {
  figures.rowsWritten += written
  figures.rowsFound += found
  return written - found
}

/** Writes this file's figures where the global teardown collects them. */
export function saveFigures(testFile: string): void {
  const dir = inject('testRun').prepared.reportDir!
  const name = `${path.basename(testFile).replace(/\W+/g, '-')}-${process.pid}.json`
  writeFileSync(path.join(dir, name), JSON.stringify({ file: path.basename(testFile), ...figures }))
}
