// Several parties measured against each other in turns. On a shared VM the machine's
// speed drifts within a run (its neighbours' load, steal time): a reference measured
// a minute after the endpoint it is the reference of has been seen at half or double
// the endpoint's conditions. So each party gets `rounds` slices of the same length,
// in an order rotated every round, and its figures are the sums over its slices: a
// drift weighs on every party alike, and the ratios between them hold.
import { type CpuSplit, cpuPerUnit } from './cpu.js'

export interface Party<T> {
  /** The process whose CPU is the party's own (none for the raw pool: the bench is the client). */
  pid?: number
  otherPids?: number[]
  /**
   * One slice of `seconds`: returns how many units (requests, queries) it did and what
   * else it saw; calls `done()` when the load is over, before connections close.
   */
  slice(seconds: number, done: () => void): Promise<{ units: number; detail: T }>
}

export interface TurnsFigure<T> {
  /** Units per second over all the party's slices. */
  perSec: number
  /** CPU per unit over all the party's slices. */
  cpu: CpuSplit
  /** Each slice's units per second, in the order run: the spread says how steady the machine was. */
  slices: number[]
  details: T[]
}

export async function inTurns<T>(
  parties: Party<T>[],
  options: { rounds: number; sliceSec: number },
): Promise<TurnsFigure<T>[]> {
  const runs = parties.map(() => [] as { units: number; cpu: CpuSplit; detail: T }[])
  for (let round = 0; round < options.rounds; round++) {
    for (let turn = 0; turn < parties.length; turn++) {
      const index = (round + turn) % parties.length
      const party = parties[index]!
      let detail: T | undefined
      const measured = await cpuPerUnit(
        party.pid,
        async (done) => {
          const slice = await party.slice(options.sliceSec, done)
          detail = slice.detail
          return slice.units
        },
        party.otherPids ?? [],
      )
      runs[index]!.push({ units: measured.units, cpu: measured.cpu, detail: detail as T })
    }
  }
  return runs.map((slices) => {
    const units = slices.reduce((sum, slice) => sum + slice.units, 0)
    // Per-unit CPU of each slice, weighted by the slice's units: the total over the total.
    const weighted = (pick: (cpu: CpuSplit) => number | undefined) =>
      units > 0 ? slices.reduce((sum, slice) => sum + (pick(slice.cpu) ?? 0) * slice.units, 0) / units : 0
    const others =
      slices[0]?.cpu.othersUs?.map((_, i) => Math.round(weighted((cpu) => cpu.othersUs?.[i]))) ?? []
    const syscalls = weighted((cpu) => cpu.serverSyscalls)
    return {
      perSec: Math.round(units / (options.sliceSec * slices.length)),
      cpu: {
        serverUs: Math.round(weighted((cpu) => cpu.serverUs)),
        ...(slices[0]?.cpu.serverSyscalls !== undefined
          ? { serverSyscalls: Math.round(syscalls * 10) / 10 }
          : {}),
        postgresUs: Math.round(weighted((cpu) => cpu.postgresUs)),
        loadUs: Math.round(weighted((cpu) => cpu.loadUs)),
        ...(others.length > 0 ? { othersUs: others } : {}),
      },
      slices: slices.map((slice) => Math.round(slice.units / options.sliceSec)),
      details: slices.map((slice) => slice.detail),
    }
  })
}
