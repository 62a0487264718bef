// Polls a service's /readyz until it answers 200: listening, database reachable,
// migrations applied.

export async function waitUntilReady(url: string, signal: AbortSignal, intervalMs = 200): Promise<boolean> {
  while (!signal.aborted) {
    try {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) })
      await response.body?.cancel()
      if (response.status === 200) return true
    } catch {
      // not listening yet, or the check timed out: try again
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  return false
}
