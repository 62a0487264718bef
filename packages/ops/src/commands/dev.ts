import type { Command } from '../command.js'
import { runDevStack } from '../stack/dev-stack.js'

export const devCommand: Command = {
  name: 'dev',
  usage: 'dev',
  summary: 'the whole stack without Docker: embedded PostgreSQL (or DATABASE_URL), bootstrap, every service',
  ownProcessGroup: true,
  run: runDevStack,
}
