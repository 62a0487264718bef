// Headless Chromium from Debian's `chromium` package, driven by playwright-core:
// browser downloads do not work on these machines, so Playwright's own builds
// are never used. Playwright gives each launch a fresh, temporary profile.
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the docs tests drive Debian's Chromium. Install it with ` +
        '`apt-get install -y --no-install-recommends chromium` (as root).',
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
