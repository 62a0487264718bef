// CPU time from /proc, to say where a request's CPU goes: the service process,
// the PostgreSQL server's processes (when they run on this machine) and the load
// generator (this process). On 2 shared cores that split, not one process, sets
// the throughput.
import { readdirSync, readFileSync } from 'node:fs'

const TICKS_PER_SECOND = 100 // USER_HZ on Linux

/** utime + stime of one process, in seconds. */
export function processCpuSeconds(pid: number): number {
  // Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

/**
 * Read and write system calls a process has made (/proc/<pid>/io's syscr + syscw: read,
 * readv, recvmsg, write, writev, sendmsg...). On this VM a system call costs several µs,
 * so how many a request takes explains much of its CPU, and unlike CPU time the count
 * does not change with how busy the machine is.
 */
export function processSyscalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8')
  const count = (field: string) => Number(new RegExp(`${field}: (\\d+)`).exec(io)?.[1] ?? Number.NaN)
  return count('syscr') + count('syscw')
}

/** CPU seconds of each process named postgres on this machine, by pid. */
export function postgresCpuByPid(): Map<number, number> {
  const byPid = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.includes(' (postgres) ')) byPid.set(Number(entry), processCpuSeconds(Number(entry)))
    } catch {
      // The process ended between readdir and read.
    }
  }
  return byPid
}

/** CPU PostgreSQL spent between two readings: backends that ended in between are not counted. */
function postgresCpuSince(before: Map<number, number>): number {
  let total = 0
  for (const [pid, seconds] of postgresCpuByPid()) total += seconds - (before.get(pid) ?? 0)
  return total
}

export interface CpuSplit {
  /** CPU µs per request (or query) of the server under test, PostgreSQL and the load generator. */
  serverUs: number
  /** Read and write system calls of the server under test per request (processSyscalls). */
  serverSyscalls?: number
  postgresUs: number
  loadUs: number
  /** The other processes asked for (a pooler, a service the server calls), in their order. */
  othersUs?: number[]
}

/**
 * Measures the CPU that `work` costs each party, per unit of what it returns a count
 * of. `work` calls `done()` once the load is over, before it closes connections: a
 * backend that has exited can no longer be read.
 */
export async function cpuPerUnit(
  serverPid: number | undefined,
  work: (done: () => void) => Promise<number>,
  otherPids: number[] = [],
): Promise<{ units: number; cpu: CpuSplit }> {
  const server0 = serverPid ? processCpuSeconds(serverPid) : 0
  const syscalls0 = serverPid ? processSyscalls(serverPid) : 0
  const others0 = otherPids.map(processCpuSeconds)
  const postgres0 = postgresCpuByPid()
  const self0 = process.cpuUsage()
  let spent:
    | { server: number; syscalls: number; others: number[]; postgres: number; self: NodeJS.CpuUsage }
    | undefined
  const done = () => {
    spent ??= {
      server: serverPid ? processCpuSeconds(serverPid) - server0 : 0,
      syscalls: serverPid ? processSyscalls(serverPid) - syscalls0 : 0,
      others: otherPids.map((pid, i) => processCpuSeconds(pid) - others0[i]!),
      postgres: postgresCpuSince(postgres0),
      self: process.cpuUsage(self0),
    }
  }
  const units = await work(done)
  done()
  const perUnit = (seconds: number) => (units > 0 ? Math.round((seconds / units) * 1e6) : 0)
  return {
    units,
    cpu: {
      serverUs: perUnit(spent!.server),
      ...(serverPid && units > 0 ? { serverSyscalls: Math.round((spent!.syscalls / units) * 10) / 10 } : {}),
      postgresUs: perUnit(spent!.postgres),
      loadUs: perUnit((spent!.self.user + spent!.self.system) / 1e6),
      ...(otherPids.length > 0 ? { othersUs: spent!.others.map(perUnit) } : {}),
    },
  }
}
