// A service process, started exactly as its container image starts it: `node
// dist/server.js` in the service's folder (the image's WORKDIR holds the same layout).
import { existsSync } from 'node:fs'
import path from 'node:path'
import { type ProcessOptions, type RunningProcess, startProcess } from './process.js'

/** The start command, relative to the service's folder; infra/docker/Dockerfile's CMD is the same. */
export const SERVICE_START_COMMAND = ['node', 'dist/server.js'] as const

export interface ServiceProcessOptions extends Omit<ProcessOptions, 'command' | 'args' | 'cwd'> {
  /** The service's folder (or a copy of it), holding dist/server.js. */
  dir: string
  /** Node's own flags, before the script (BENCH_NODE_ARGS: --cpu-prof). */
  nodeArgs?: readonly string[]
  /** Another script than dist/server.js, relative to `dir`: a baseline started and measured the same way. */
  script?: string
}

export function startServiceProcess(options: ServiceProcessOptions): RunningProcess {
  const [node, script] = SERVICE_START_COMMAND
  const entry = options.script ?? script
  const file = path.resolve(options.dir, entry)
  if (!existsSync(file)) throw new Error(`${file} is missing: build it first`)
  const { dir, nodeArgs = [], ...rest } = options
  return startProcess({
    ...rest,
    // The Node running this process: the one the checkout was built and tested with.
    command: node === 'node' ? process.execPath : node,
    args: [...nodeArgs, entry],
    cwd: dir,
  })
}
