// Reads outside a transaction, written on a shared connection without waiting for the
// answer of the one before (pipelining, pg's `pipeline: true`).
//
// Through pg.Pool every query takes a connection of its own and PostgreSQL answers one
// query per wake-up of that connection's backend: the backend sleeps between queries,
// and the service reads each answer and writes each query with a system call of its
// own. On a shared connection, the queries of one event-loop turn reach the backend
// together and their answers come back together. bench/README.md (tenth pass): bare
// Fastify's DB read at about twice the requests/s of the same route on a pool of 10,
// PostgreSQL's CPU per query at a third.
//
// Every query carries its own Sync, so each is its own implicit transaction: an error
// fails that query alone and the ones behind it run. A transaction never runs here (it
// needs its statements in order on one connection with nothing between them): the
// caller checks a connection out of the pool for it.
//
// A query that takes long holds up the queries written behind it on its connection. So
// only reads are pipelined (isPipelinedRead: a write can wait for another transaction's
// row lock as long as that transaction runs; a read waits on nothing but DDL, unless it
// calls a function that locks, such as pg_advisory_lock, which no service does through
// the pool), and queries go to the first connection unless it is stalled (queries in
// flight and none answered for STALL_MS), then to the next one (opened when first
// needed), and when all are stalled to the pool (`overflow`: one query per connection,
// as without pipelining). One connection carries the load while it keeps answering.
//
// The clock is the process's, so a connection is judged stalled only from a later
// event-loop turn than its last progress: queries written in one turn can have had no
// answer read, however long the turn took (a process kept off the CPU on a busy
// machine, a long synchronous task, a garbage collection pause). Between turns, such a
// pause can still make a connection look stalled when its answers are merely unread,
// which costs a second connection's batching for a moment, nothing else; so STALL_MS is
// well above such pauses, and well below what a caller would notice as a hold-up.
import { performance } from 'node:perf_hooks'
import type pg from 'pg'

/** How long a connection with queries in flight may answer none before queries go elsewhere. */
export const STALL_MS = 20

type Callback = (error: Error | null | undefined, result?: pg.QueryResult) => void

const READ = /^\s*select\b/i
const LOCKING = /\bfor\s+(?:update|share|no\s+key\s+update|key\s+share)\b/i
// Per statement text: Drizzle sends the same few texts again and again. Bounded, in case
// a caller builds texts with values in them.
const readByText = new Map<string, boolean>()

/** A SELECT that takes no row lock: what may share a connection with other queries. */
export function isPipelinedRead(text: string): boolean {
  let read = readByText.get(text)
  if (read === undefined) {
    read = READ.test(text) && !LOCKING.test(text)
    if (readByText.size >= 1000) readByText.clear()
    readByText.set(text, read)
  }
  return read
}

class Lane {
  inFlight = 0
  /** When a query of this connection was last answered, or written to it while it had none in flight. */
  progressAt = 0
  /** The event-loop turn of progressAt. */
  progressTurn = -1
  ready = false
  gone = false
  readonly connecting: Promise<void>

  constructor(readonly client: pg.Client) {
    this.connecting = client.connect().then(() => {
      this.ready = true
    })
  }

  stalled(now: number, turn: number, stallMs: number): boolean {
    return this.inFlight > 0 && this.progressTurn !== turn && now - this.progressAt > stallMs
  }

  progressed(): void {
    this.progressAt = performance.now()
    this.progressTurn = currentTurn()
  }
}

// Event-loop turns, counted only while queries are written: the first query of a turn
// schedules the setImmediate that ends it (one per turn, whatever the queries).
let turn = 0
let turnEnding = false
function endTurn(): void {
  turn++
  turnEnding = false
}
function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true
    setImmediate(endTurn)
  }
  return turn
}

export interface PipelinedQueriesOptions {
  /** At most this many shared connections (at least 1). */
  connections: number
  /** Default STALL_MS. */
  stallMs?: number
  /** Where a query goes when every shared connection is stalled (the pool); else the one with the fewest in flight. */
  overflow?: (config: unknown, values: unknown, callback: Callback) => void
  /** A new, unconnected client in pipeline mode. */
  createClient: () => pg.Client
  /** A shared connection failed outside a query (the server went away); it is replaced on next use. */
  onError?: (error: Error) => void
}

export class PipelinedQueries {
  private readonly lanes: (Lane | undefined)[]
  private ending = false
  private readonly stallMs: number

  constructor(private readonly options: PipelinedQueriesOptions) {
    this.lanes = new Array(Math.max(1, options.connections)).fill(undefined)
    this.stallMs = options.stallMs ?? STALL_MS
  }

  /** Open shared connections (for /metrics and the tests). */
  get openCount(): number {
    return this.lanes.filter((lane) => lane !== undefined).length
  }

  /** Queries written and not yet answered, over all shared connections. */
  get inFlightCount(): number {
    return this.lanes.reduce((sum, lane) => sum + (lane?.inFlight ?? 0), 0)
  }

  /** pg.Pool.query's signatures: (text or config, values?, callback?), a promise without a callback. */
  query(config: unknown, values?: unknown, callback?: Callback): Promise<pg.QueryResult> | undefined {
    if (typeof values === 'function') {
      callback = values as Callback
      values = undefined
    }
    if (callback) {
      this.dispatch(config, values, callback)
      return undefined
    }
    return new Promise((resolve, reject) => {
      this.dispatch(config, values, (error, result) => (error ? reject(error) : resolve(result!)))
    })
  }

  private dispatch(config: unknown, values: unknown, callback: Callback): void {
    if (this.ending) {
      process.nextTick(callback, new Error('The database pool is closed'))
      return
    }
    const lane = this.pick()
    if (lane === undefined) {
      this.options.overflow!(config, values, callback)
      return
    }
    if (lane.ready) this.submit(lane, config, values, callback)
    else
      lane.connecting.then(
        () => this.submit(lane, config, values, callback),
        (error: Error) => callback(error),
      )
  }

  private submit(lane: Lane, config: unknown, values: unknown, callback: Callback): void {
    if (lane.inFlight++ === 0) lane.progressed()
    const answered: Callback = (error, result) => {
      lane.inFlight--
      lane.progressed()
      callback(error, result)
    }
    try {
      ;(lane.client.query as (config: unknown, values: unknown, callback: Callback) => void)(
        config,
        values,
        answered,
      )
    } catch (error) {
      // pg throws synchronously for a config it cannot take (a null query).
      answered(error as Error)
    }
  }

  /** The first shared connection not stalled; when all are, undefined if there is an overflow. */
  private pick(): Lane | undefined {
    const lanes = this.lanes
    const now = performance.now()
    const turn = currentTurn()
    let fewest: Lane | undefined
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i] ?? this.open(i)
      if (!lane.stalled(now, turn, this.stallMs)) return lane
      if (fewest === undefined || lane.inFlight < fewest.inFlight) fewest = lane
    }
    return this.options.overflow ? undefined : fewest
  }

  private open(index: number): Lane {
    const client = this.options.createClient()
    const lane = new Lane(client)
    this.lanes[index] = lane
    const drop = () => {
      lane.gone = true
      if (this.lanes[index] === lane) this.lanes[index] = undefined
    }
    // A failed connect fails the queries waiting on it (dispatch); the next query opens anew.
    lane.connecting.catch(drop)
    // The socket failed or closed: pg fails the queries in flight; later ones get a new connection.
    client.on('error', (error: Error) => {
      drop()
      if (!this.ending) this.options.onError?.(error)
    })
    client.on('end', drop)
    return lane
  }

  /** Waits for the queries in flight, then closes the shared connections. */
  async end(): Promise<void> {
    this.ending = true
    const lanes = this.lanes.filter((lane): lane is Lane => lane !== undefined)
    this.lanes.fill(undefined)
    await Promise.all(
      lanes.map(async (lane) => {
        try {
          await lane.connecting
        } catch {
          return
        }
        if (!lane.gone) await lane.client.end()
      }),
    )
  }
}
