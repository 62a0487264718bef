#!/usr/bin/env node
// `ops <command> [--svc s] [--msg m] [--steps n] [--custom] [--name n] [--port p] [--user u]`.
// The Makefile sets OPS_SVC, OPS_MSG, OPS_STEPS, OPS_NAME, OPS_PORT and OPS_USER instead of
// flags, so user text never passes through a shell. Usage errors print one line and
// exit 2; failures exit 1.
import { parseArgs } from 'node:util'
import { UsageError } from '@app/migrations/authoring'
import type { CommandContext } from './command.js'
import { commands } from './commands/index.js'
import { isSupervisor, runAsSupervisor } from './stack/process-group.js'

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      svc: { type: 'string' },
      msg: { type: 'string' },
      steps: { type: 'string' },
      custom: { type: 'boolean' },
      name: { type: 'string' },
      port: { type: 'string' },
      user: { type: 'string' },
    },
  })
  const name = positionals[0]
  const command = commands.find((c) => c.name === name)
  if (!command) {
    const list = commands.map((c) => `  ops ${c.usage.padEnd(40)} ${c.summary}`).join('\n')
    process.stderr.write(`${name ? `unknown command '${name}'\n` : ''}usage:\n${list}\n`)
    return 2
  }
  if (command.ownProcessGroup && !isSupervisor(env)) return runAsSupervisor(argv, env)
  const context: CommandContext = {
    options: {
      svc: values.svc ?? (env.OPS_SVC || undefined),
      msg: values.msg ?? (env.OPS_MSG || undefined),
      steps: values.steps ?? (env.OPS_STEPS || undefined),
      custom: values.custom ?? ['1', 'true', 'yes', 'no-transaction'].includes(env.OPS_CUSTOM ?? ''),
      noTransaction: env.OPS_CUSTOM === 'no-transaction',
      name: values.name ?? (env.OPS_NAME || undefined),
      port: values.port ?? (env.OPS_PORT || undefined),
      user: values.user ?? (env.OPS_USER || undefined),
    },
    env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }
  try {
    return await command.run(context)
  } catch (error) {
    if (error instanceof UsageError) {
      context.err(`error: ${error.message}`)
      return 2
    }
    context.err(`error: ${(error as Error).message}`)
    return 1
  }
}

// process.exit rather than exitCode: a command that started the embedded database
// has its server child and stdio handles to let go of; the exit code is decided here.
main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
