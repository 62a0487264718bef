// Which port each service listens on in `make dev`: `<SERVICE>_PORT`, else its
// entry below (the port its config, docker-compose.yml and manifests use), else the
// next one after those.
import { createServer } from 'node:net'
import type { Env } from '@app/migrations/authoring'
import { UsageError } from '@app/migrations/authoring'

/**
 * Each service's port: its config's default, its docker-compose and Kubernetes port.
 * `make new-service` adds a line (one entry per line, so it can).
 */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  auth: 5008,
  billing: 5009,
}

export function portVariable(service: string): string {
  return `${service.toUpperCase()}_PORT`
}

export function devPorts(services: { name: string }[], env: Env): Map<string, number> {
  const ports = new Map<string, number>()
  let next = Math.max(...Object.values(DEFAULT_PORTS)) + 1
  for (const { name } of services) {
    const variable = portVariable(name)
    const raw = env[variable]
    const port = raw ? Number(raw) : (DEFAULT_PORTS[name] ?? next++)
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new UsageError(`${variable} must be a TCP port (1-65535), got '${raw}'`)
    }
    ports.set(name, port)
  }
  return ports
}

/** Rejects with a message naming the variable to change when something already listens there. */
export function assertPortFree(port: number, host: string, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use: stop what listens there or set ${variable}`
            : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      ),
    )
    probe.listen(port, host, () => probe.close(() => resolve()))
  })
}
