// Where the services' log lines go: standard output, the lines of one event-loop turn
// written together, synchronously, when the turn's I/O is done (setImmediate).
//
// Why not pino's default stream: it writes each line from libuv's thread pool and
// holds the lines that come meanwhile, so a line waits for a thread hop, and on these
// machines the hop costs about as much CPU as the write itself. A synchronous write
// per line costs a system call per request instead (the bench measured both at 20-30
// µs of CPU per request under load, more than everything else the service adds to a
// DB read). One write per turn keeps what both give, every line out within the turn
// that logged it, and under load writes one system call for many requests.
//
// What it costs: a process killed by SIGKILL or the OOM killer loses the lines of the
// turn it was in (pino's default loses those its pending write held); any other exit,
// process.exit and an uncaught exception included, writes them first ('exit'). And, as
// with any synchronous stream, a log reader that stops reading stops the process once
// the pipe is full: on Kubernetes and Docker the runtime reads it.
import pino from 'pino'

export interface LogStream {
  write(line: string): void
}

const streams = new Map<number, LogStream>()

/** One per file descriptor and process, whatever number of apps log to it (tests build many). */
export function turnBatchedStdout(fd = 1): LogStream {
  let stream = streams.get(fd)
  if (stream === undefined) {
    stream = turnBatched(fd)
    streams.set(fd, stream)
  }
  return stream
}

function turnBatched(fd: number): LogStream {
  // SonicBoom (pino's own) does the writing: partial writes, EAGAIN on a full pipe.
  const out = pino.destination({ fd, sync: true })
  let pending = ''
  const flush = () => {
    if (pending === '') return
    const batch = pending
    pending = ''
    out.write(batch)
  }
  process.on('exit', flush)
  return {
    write(line) {
      if (pending === '') setImmediate(flush)
      pending += line
    },
  }
}
