// What every ops command gets: its options (from --flags, or from OPS_* variables,
// which is how the Makefile passes svc=, msg=, steps=, name=, port= and user= without a
// shell ever parsing them), the environment, and where to print.
import type { Env } from '@app/migrations/authoring'

export interface CommandContext {
  options: {
    svc?: string
    msg?: string
    steps?: string
    custom?: boolean
    noTransaction?: boolean
    name?: string
    port?: string
    /** make admin's user=. */
    user?: string
  }
  env: Env
  out: (line: string) => void
  err: (line: string) => void
}

export interface Command {
  name: string
  usage: string
  summary: string
  /**
   * Supervises child processes (services, the embedded database): runs in a
   * process group of its own so that it alone decides the order they stop in.
   */
  ownProcessGroup?: boolean
  /** Resolves to the exit code. */
  run(context: CommandContext): Promise<number>
}
