#!/usr/bin/env node
// Reads a V8 CPU profile (BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" writes one per
// process the bench starts) and prints where the time went: self time by package and by
// function, with a service bundle's lines mapped back to their sources through its
// .map file (node:module's SourceMap, no dependency). With the number of requests the
// process answered, every figure is per request, so a service's profile and bare's can
// be read side by side. `--callers NAME` (repeatable) prints where a function is called
// from: its time with everything it calls, by the three frames above it (which of
// several queries builds SQL at run time, say).
//
//   node bench/scripts/cpuprofile.mjs PROFILE [REQUESTS] [--functions N] [--callers NAME]
import { readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    functions: { type: 'string', default: '40' },
    callers: { type: 'string', multiple: true, default: [] },
  },
})
const [file, requestsArg] = positionals
if (!file) {
  console.error(
    'usage: node bench/scripts/cpuprofile.mjs PROFILE [REQUESTS] [--functions N] [--callers NAME]',
  )
  process.exit(2)
}
const requests = Number(requestsArg ?? 0)
const profile = JSON.parse(readFileSync(file, 'utf8'))

const maps = new Map()
/** A frame's place: its source (package@version, or a path in this repository) and line. */
function placeOf(frame) {
  const packageOf = (url) => url.replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*/, '$1')
  if (frame.url.startsWith('file://') && /\.c?js$/.test(frame.url)) {
    const path = fileURLToPath(frame.url)
    if (!maps.has(path)) {
      try {
        maps.set(path, new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8'))))
      } catch {
        maps.set(path, undefined)
      }
    }
    const entry = maps.get(path)?.findEntry(frame.lineNumber, frame.columnNumber)
    if (entry?.originalSource) {
      const source = packageOf(entry.originalSource).replace(
        /^(\.\.\/)+|^file:\/\/.*?\/(?=(packages|services)\/)/,
        '',
      )
      return { where: source.replace(/\/src\/.*$/, '/src'), at: `${source}:${entry.originalLine + 1}` }
    }
  }
  if (!frame.url) return { where: `(${frame.functionName})`, at: '' }
  const where = frame.url.startsWith('node:') ? 'node:*' : packageOf(frame.url)
  return { where, at: `${packageOf(frame.url)}:${frame.lineNumber + 1}` }
}

const selfUs = new Map()
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
})
const byPlace = new Map()
const byFunction = new Map()
let busyUs = 0
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0
  if (us === 0 || node.callFrame.functionName === '(idle)') continue
  busyUs += us
  const { where, at } = placeOf(node.callFrame)
  byPlace.set(where, (byPlace.get(where) ?? 0) + us)
  const name = `${node.callFrame.functionName || '(anonymous)'} ${at}`
  byFunction.set(name, (byFunction.get(name) ?? 0) + us)
}

const shown = (us) =>
  requests > 0 ? `${(us / requests).toFixed(2)} µs/request` : `${(us / 1000).toFixed(1)} ms`
const top = (map, count) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([name, us]) => `${shown(us).padStart(18)}  ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${name}`,
    )
    .join('\n')
console.log(`busy (not idle): ${shown(busyUs)}\n\nby package or source folder:\n${top(byPlace, 25)}`)
console.log(`\nby function:\n${top(byFunction, Number(values.functions))}`)

if (values.callers.length > 0) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node)
  const totalUs = new Map()
  const total = (node) => {
    let us = totalUs.get(node.id)
    if (us === undefined) {
      us =
        (selfUs.get(node.id) ?? 0) + (node.children ?? []).reduce((sum, id) => sum + total(nodes.get(id)), 0)
      totalUs.set(node.id, us)
    }
    return us
  }
  const frameName = (node) => {
    const { at } = placeOf(node.callFrame)
    return `${node.callFrame.functionName || '(anonymous)'}${at ? ` ${at}` : ''}`
  }
  for (const name of values.callers) {
    const byCaller = new Map()
    for (const node of profile.nodes) {
      if (node.callFrame.functionName !== name) continue
      // A recursive call's time is already in its outermost call's.
      let nested = false
      for (let up = parentOf.get(node.id); up && !nested; up = parentOf.get(up.id)) {
        nested = up.callFrame.functionName === name
      }
      if (nested) continue
      const chain = []
      for (let up = parentOf.get(node.id); up && chain.length < 3; up = parentOf.get(up.id))
        chain.push(frameName(up))
      const key = chain.join(' < ') || '(root)'
      byCaller.set(key, (byCaller.get(key) ?? 0) + total(node))
    }
    console.log(
      `\n${name}, with what it calls, by caller:\n${top(byCaller, 10) || '  (not in this profile)'}`,
    )
  }
}
