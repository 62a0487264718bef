// A real HAProxy (Debian's 2.6) as the HTTP load balancer in front of service replicas
// on 127.0.0.1, health-checking their /readyz: what production puts between clients and
// the services, for drills such as rolling restarts. Config and runtime socket live in a
// temporary directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '@app/db/embedded'
import { startToolProcess, type ToolHandle, toolHandle, waitForTool } from './tool-process.js'

const HAPROXY = '/usr/sbin/haproxy'

export interface HaproxyFrontend {
  name: string
  /** Replicas by fixed port: a rolling restart replaces the process on a port, not the port. */
  servers: { name: string; port: number }[]
  /** Default '/readyz': 200 is healthy, anything else (or no answer) is not. */
  healthPath?: string
}

export interface HaproxyOptions {
  frontends: HaproxyFrontend[]
  /** Time between health checks of a server; default 250 ms. */
  checkIntervalMs?: number
  /** Failed checks before a server is DOWN; default 1. */
  fall?: number
  /** Passed checks before a DOWN server is UP again; default 1. */
  rise?: number
}

/**
 * A server's status as the runtime API reports it: UP, DOWN, MAINT, DRAIN, NOLB, or a
 * transition such as 'UP 1/2' (going down) while fall/rise > 1.
 */
export type ServerState = 'UP' | 'DOWN' | 'MAINT' | 'DRAIN' | 'NOLB' | (string & {})

/** logLines: request logs, server state changes and alerts; config: the generated haproxy.cfg. */
export interface Haproxy extends ToolHandle {
  port(frontend: string): number
  /** http://127.0.0.1:<port of the frontend> */
  url(frontend: string): string
  /** Every server of a frontend by name, from the runtime API's `show stat`. */
  serverStates(frontend: string): Promise<Record<string, ServerState>>
  /** Polls the runtime API until the server has this state; fails after `timeoutMs` (default 15 s). */
  waitForState(frontend: string, server: string, state: ServerState, timeoutMs?: number): Promise<void>
  /** A runtime API command (`disable server api/a`, `show servers state`, ...); its answer. */
  command(command: string): Promise<string>
}

// Proxy and server names go into haproxy.cfg and come back in `show stat`'s CSV.
const PLAIN_NAME = /^[A-Za-z0-9_.-]+$/

function plainName(kind: string, name: string): string {
  if (!PLAIN_NAME.test(name)) throw new Error(`${kind} ${JSON.stringify(name)}: use letters, digits, _ . -`)
  return name
}

function haproxyConfig(options: HaproxyOptions, ports: Map<string, number>, socket: string): string {
  const check = `inter ${options.checkIntervalMs ?? 250}ms fall ${options.fall ?? 1} rise ${options.rise ?? 1}`
  const global = [
    'global',
    // No daemon, chroot or user: a foreground child of the test that needs nothing
    // outside its temporary directory. Request logs and state changes go to stderr.
    '  log stderr format raw local0 info',
    `  stats socket ${socket} mode 600 level admin`,
    '  stats timeout 10s',
    // Fixed, rather than derived from the file descriptor limit (huge in some containers).
    '  maxconn 2000',
  ]
  const defaults = [
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  timeout connect 2s',
    '  timeout client 300s',
    // Idle server-side connections are purged every pool-purge-delay (5 s): well inside the
    // services' HTTP_KEEP_ALIVE_TIMEOUT_MS (72 s), so HAProxy, never a service, closes an
    // idle connection between them (docs/production.md "Timeouts").
    '  timeout server 30s',
    '  timeout http-request 10s',
    // How long an idle client connection is kept. The default (http-request's 10 s) races
    // Node's fetch, which reuses an idle connection after longer than that: HAProxy closes
    // it just as the next request goes out, and fetch (which, unlike browsers, does not
    // retry: RFC 9112 9.3.1) fails with "other side closed", a request HAProxy never saw.
    // Measured here: 12 of 400 requests after 5 s idle against a 5 s timeout. Longer than
    // any drill, so the drills measure the services, not that client/balancer race.
    '  timeout http-keep-alive 300s',
    // Without it a check must be answered within `inter` (250 ms), which a busy 2-core
    // machine's /readyz (a database round trip) can miss; the connect part stays min(connect, inter).
    '  timeout check 3s',
    // X-Forwarded-For: the services see the client's address with TRUST_PROXY=1.
    '  option forwardfor',
    // A replica being replaced refuses connections: every retry goes to another server
    // (the default redispatches on the last one only, after 1 s turn-arounds on the same one).
    '  option redispatch 1',
    '  retries 3',
    // conn-failure (the default) is always safe: nothing reached the server. empty-response
    // (the connection closed with no answer: a keep-alive connection a stopping replica
    // closed just as a request went out on it, or a crash mid-request) is safe to replay
    // only where a replay changes nothing, so non-idempotent requests without an
    // Idempotency-Key (billing's POSTs carry one) are not replayed: see `replay_safe`.
    // Not response-timeout: after 30 s the request may still commit, and replaying slow
    // database work multiplies the load that made it slow (HAProxy's docs warn the same).
    '  retry-on conn-failure empty-response',
    `  default-server check ${check}`,
  ]
  const proxies = options.frontends.flatMap((frontend) => [
    '',
    `listen ${frontend.name}`,
    `  bind 127.0.0.1:${ports.get(frontend.name)}`,
    '  balance roundrobin',
    '  option httpchk',
    `  http-check send meth GET uri ${frontend.healthPath ?? '/readyz'}`,
    '  http-check expect status 200',
    '  acl replay_safe method GET HEAD OPTIONS PUT DELETE',
    '  acl replay_safe req.hdr(idempotency-key) -m found',
    '  http-request disable-l7-retry unless replay_safe',
    ...frontend.servers.map(
      (server) => `  server ${plainName('server', server.name)} 127.0.0.1:${server.port}`,
    ),
  ])
  return `${[...global, '', ...defaults, ...proxies].join('\n')}\n`
}

/** One command on the runtime API socket (non-interactive: HAProxy closes after its answer). */
function runtimeCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const connection = connect(socket, () => connection.end(`${command}\n`))
    connection.on('data', (chunk) => chunks.push(chunk))
    connection.on('error', reject)
    connection.on('close', () => resolve(Buffer.concat(chunks).toString()))
  })
}

interface StatRow {
  proxy: string
  server: string
  status: string
  /** INI until the first check completed; '* ' while a check runs. */
  checkStatus: string
}

function parseStat(csv: string): StatRow[] {
  const [header, ...rows] = csv.split('\n').filter((line) => line.length > 0)
  if (!header?.startsWith('# ')) throw new Error(`unexpected 'show stat' answer: ${csv.slice(0, 200)}`)
  const columns = header.slice(2).split(',')
  const at = (name: string) => columns.indexOf(name)
  const [pxname, svname, status, checkStatus] = [at('pxname'), at('svname'), at('status'), at('check_status')]
  return rows.map((row) => {
    const fields = row.split(',')
    return {
      proxy: fields[pxname] ?? '',
      server: fields[svname] ?? '',
      status: fields[status] ?? '',
      checkStatus: (fields[checkStatus] ?? '').replace(/^\* /, ''),
    }
  })
}

export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const ports = new Map<string, number>()
  for (const frontend of options.frontends) {
    if (ports.has(plainName('frontend', frontend.name))) throw new Error(`frontend ${frontend.name} twice`)
    ports.set(frontend.name, await freePort())
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'drills-haproxy-'))
  const socket = path.join(dir, 'admin.sock')
  const configFile = path.join(dir, 'haproxy.cfg')
  const config = haproxyConfig(options, ports, socket)
  writeFileSync(configFile, config)

  // -db: foreground, one process, no master: SIGTERM stops it, and it is ours to wait for.
  const proc = startToolProcess({ command: HAPROXY, args: ['-db', '-f', configFile], cwd: dir })
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }))

  const stat = async () => parseStat(await runtimeCommand(socket, 'show stat'))
  const servers = async (frontend: string) => {
    if (!ports.has(frontend)) throw new Error(`no frontend ${frontend}`)
    return (await stat()).filter(
      (row) => row.proxy === frontend && row.server !== 'FRONTEND' && row.server !== 'BACKEND',
    )
  }

  try {
    // Ready once the runtime API answers and every server has had its first check: a
    // server starts out UP, so before that its state says nothing.
    await waitForTool('haproxy', proc, async () => {
      const pending = (await stat()).filter((row) => row.checkStatus === 'INI')
      if (pending.length > 0) throw new Error(`first check pending: ${pending.map((row) => row.server)}`)
    })
  } catch (error) {
    await proc.kill()
    throw error
  }

  const port = (frontend: string) => {
    const found = ports.get(frontend)
    if (found === undefined) throw new Error(`no frontend ${frontend}`)
    return found
  }
  const serverStates = async (frontend: string) =>
    Object.fromEntries((await servers(frontend)).map((row) => [row.server, row.status]))

  return toolHandle<Omit<Haproxy, keyof ToolHandle>>(proc, config, {
    port,
    url: (frontend) => `http://127.0.0.1:${port(frontend)}`,
    serverStates,
    async waitForState(frontend, server, state, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const current = (await serverStates(frontend))[server]
        if (current === undefined) throw new Error(`no server ${server} in ${frontend}`)
        if (current === state) return
        if (Date.now() > deadline) {
          throw new Error(
            `${frontend}/${server} is ${current}, not ${state}, after ${timeoutMs} ms:\n${proc.lines.slice(-10).join('\n')}`,
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    command: (command) => runtimeCommand(socket, command),
  })
}
