// Starts a service the way `make run` and the images do (`node dist/server.js`,
// its own role URL), and measures it from outside: time to /readyz 200 and RSS.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { freePort } from '@app/db/embedded'

export interface RunningService {
  name: string
  port: number
  baseUrl: string
  child: ChildProcess
  /** Launch to first /readyz 200, in ms. */
  readyMs: number
  rssMb(): number
  stop(): Promise<void>
}

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('error', () => resolve(0))
  })
}

export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) / 1024 : Number.NaN
}

export async function startService(options: {
  entry: string
  name: string
  env: Record<string, string>
  logFile: string
  timeoutMs?: number
}): Promise<RunningService> {
  const port = Number(options.env.PORT ?? (await freePort()))
  const log = openSync(options.logFile, 'a')
  const started = performance.now()
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the services under load.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []
  const child = spawn(process.execPath, [...nodeArgs, options.entry], {
    cwd: path.dirname(path.dirname(options.entry)),
    env: {
      PATH: process.env.PATH ?? '',
      ...options.env,
      PORT: String(port),
    },
    // The service writes its log lines straight to the file: piped through this
    // process they would cost the load generator CPU that the service's figures pay for.
    stdio: ['ignore', log, log],
  })
  closeSync(log)
  const baseUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  while ((await status(`${baseUrl}/readyz`)) !== 200) {
    if (exited) throw new Error(`${options.name} exited before becoming ready; see ${options.logFile}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(
        `${options.name} not ready after ${options.timeoutMs ?? 30_000} ms; see ${options.logFile}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  const readyMs = performance.now() - started
  return {
    name: options.name,
    port,
    baseUrl,
    child,
    readyMs,
    rssMb: () => rssMb(child.pid!),
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
