// The real auth service, as a process started the way production starts it
// (node services/auth/dist/server.js), on a free port, logged in to the test's
// database as the runtime role auth_app. The template database is migrated
// already, so it starts as a replica behind a pre-deploy migration job does
// (MIGRATE_ON_START=false). Billing never imports auth's code.
import { type ChildProcess, spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { freePort } from '@app/db/embedded'
import { discoverServices } from '@app/migrations/authoring'

export interface AuthProcess {
  url: string
  /** Stops the process (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>
}

export async function startAuth(options: { databaseUrl: string }): Promise<AuthProcess> {
  const auth = discoverServices().find((s) => s.name === 'auth')!
  if (!existsSync(auth.entry)) {
    throw new Error(`${auth.entry} is missing: build auth first (pnpm --filter @app/auth build)`)
  }
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let output = ''
  const child = spawn(process.execPath, [auth.entry], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: options.databaseUrl,
      MIGRATE_ON_START: 'false',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // auth does not start without a signing key (it makes none outside DEV_SECRETS_DIR).
      AUTH_JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000)
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`auth exited with ${child.exitCode} before ready:\n${output}`)
    if (Date.now() > deadline) {
      await stop(child, exited)
      throw new Error(`auth was not ready within 30 s:\n${output}`)
    }
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    )
    if (ready) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { url, stop: () => stop(child, exited) }
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  await exited
}
