// The runner logs through the pino-style `(fields, message)` shape, so a Fastify
// logger can be passed as is; the command line prints the message alone.

export interface MigrationLogger {
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
}

export const silentLogger: MigrationLogger = { info() {}, warn() {} }

export const consoleLogger: MigrationLogger = {
  info: (_fields, message) => console.log(message),
  warn: (_fields, message) => console.warn(`warning: ${message}`),
}
