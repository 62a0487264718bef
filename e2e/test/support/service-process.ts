// A service as production starts it: `node services/<svc>/dist/server.js` (the
// bundle turbo builds before this package's tests), on a given port, with only
// the environment passed here. Resolves once /readyz answers 200 (migrated, ready).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { requireService } from '@app/migrations/authoring'

export interface ServiceProcess {
  url: string
  /** The process's last output, for failure messages. */
  output(): string
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>
}

export async function startService(
  name: string,
  options: { port: number; env: Record<string, string> },
): Promise<ServiceProcess> {
  const service = requireService(name)
  if (!existsSync(service.entry)) {
    throw new Error(`${service.entry} is missing: build it first (pnpm --filter @app/${name} build)`)
  }
  const url = `http://127.0.0.1:${options.port}`
  let output = ''
  const child = spawn(process.execPath, [service.entry], {
    env: {
      PATH: process.env.PATH,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000)
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = () => stopProcess(child, exited)

  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with ${child.exitCode} before ready:\n${output}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${name} was not ready within 30 s:\n${output}`)
    }
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    )
    if (ready) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { url, output: () => output, stop }
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  await exited
}
