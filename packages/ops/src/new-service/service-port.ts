// The port a new service gets: the one asked for, or the first after the existing
// services' that nothing else claims. Refused: another service's port, a port the
// stack itself uses, one something listens on right now.
import { createServer } from 'node:net'
import { UsageError } from '@app/migrations/authoring'
import { DEV_DATABASE } from '../admin-database.js'
import { DEFAULT_PORTS } from '../stack/ports.js'

/** Ports the stack uses besides the services', and what uses them. */
const STACK_PORTS: Record<number, string> = {
  5432: "docker-compose's PostgreSQL",
  6432: "the Kubernetes PgBouncer's",
  8080: "docker-compose's adminer",
  [DEV_DATABASE.port]: "the embedded development database's (make dev)",
}

function listens(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'))
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)))
  })
}

/** Something listens on the port, on loopback or on every address. */
async function inUse(port: number): Promise<boolean> {
  return (await listens(port, '127.0.0.1')) || (await listens(port, '0.0.0.0'))
}

function owner(port: number, ports: Readonly<Record<string, number>>): string | undefined {
  const service = Object.entries(ports).find(([, p]) => p === port)?.[0]
  return service ? `${service}'s` : STACK_PORTS[port]
}

/** The port to record for the new service, or a UsageError saying in one line why not. */
export async function choosePort(
  requested: string | undefined,
  ports: Readonly<Record<string, number>> = DEFAULT_PORTS,
): Promise<number> {
  if (requested === undefined) {
    for (let port = Math.max(...Object.values(ports)) + 1; port <= 65535; port++) {
      if (!owner(port, ports) && !(await inUse(port))) return port
    }
    throw new UsageError("no free port above the services' ones: choose one with port=<port>")
  }
  const port = /^[0-9]{1,5}$/.test(requested) ? Number(requested) : Number.NaN
  if (!(port >= 1024 && port <= 65535)) {
    throw new UsageError(
      `port must be a TCP port from 1024 to 65535 (lower ones need root), got ${JSON.stringify(requested.slice(0, 20))}`,
    )
  }
  const taken = owner(port, ports)
  if (taken) throw new UsageError(`port ${port} is taken: it is ${taken}; choose another with port=<port>`)
  if (await inUse(port)) {
    throw new UsageError(
      `port ${port} is in use on this machine (something listens on it); choose another with port=<port>`,
    )
  }
  return port
}
