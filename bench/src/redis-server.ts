// A throwaway redis-server on a free 127.0.0.1 port, nothing saved to disk, started
// and stopped by the bench (Debian's redis-server package; scripts/ensure-test-tools.sh
// installs it). Missing binary: a one-line reason instead of a server.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { freePort } from '@app/db/embedded'

export interface RedisServer {
  port: number
  pid: number
  version: string
  stop(): Promise<void>
}

export const REDIS_MISSING =
  "redis-server not found, so the Redis store is not measured: install Debian's redis-server (sudo apt-get install redis-server, or scripts/ensure-test-tools.sh)"

/** redis-server on PATH, or where Debian puts it. */
function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin']
  return dirs
    .filter((dir) => path.isAbsolute(dir))
    .map((dir) => path.join(dir, 'redis-server'))
    .find((file) => existsSync(file))
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export async function startRedisServer(): Promise<RedisServer | { missing: string }> {
  const binary = findRedisServer()
  if (!binary) return { missing: REDIS_MISSING }
  const version = /v=([\d.]+)/.exec(spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout)?.[1]
  const port = await freePort()
  const child: ChildProcess = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  // Kept for the error message should it fail to start.
  let output = ''
  const keep = (chunk: Buffer) => {
    if (output.length < 10_000) output += chunk.toString()
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  const deadline = Date.now() + 10_000
  while (!(await accepts(port))) {
    if (exited) throw new Error(`redis-server exited at start:\n${output}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`redis-server not accepting connections on 127.0.0.1:${port} after 10 s`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {
    port,
    pid: child.pid!,
    version: version ?? 'unknown',
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
