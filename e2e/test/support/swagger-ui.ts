// What a person does on a Swagger UI page, as Playwright steps: expand an
// operation, fill it in, Execute, read the live response; log in through the
// Authorize dialog's OAuth2 password form. Every step waits for the element or the
// HTTP answer it needs, never for a fixed time.
import type { Locator, Page, Response } from 'playwright-core'

type SeenRequest = { url(): string; method(): string; failure(): { errorText: string } | null }

/**
 * Resolves with the response to the first request matching `match`; rejects if that
 * request fails (refused, CORS...). Start it before the click that sends the request.
 */
export function nextResponse(page: Page, match: (url: URL, method: string) => boolean): Promise<Response> {
  const answer = new Promise<Response>((resolve, reject) => {
    const matches = (request: SeenRequest) => match(new URL(request.url()), request.method())
    const onResponse = (response: Response) => {
      if (!matches(response.request())) return
      cleanup()
      resolve(response)
    }
    const onFailed = (request: SeenRequest) => {
      if (!matches(request)) return
      cleanup()
      const reason = request.failure()?.errorText
      reject(
        new Error(
          `${request.method()} ${request.url()} failed in the browser: ${reason} (a CORS refusal shows as net::ERR_FAILED too; the console says which)`,
        ),
      )
    }
    const cleanup = () => {
      page.off('response', onResponse)
      page.off('requestfailed', onFailed)
    }
    page.on('response', onResponse)
    page.on('requestfailed', onFailed)
  })
  // It may fail while the caller is still clicking, before it awaits: not an unhandled rejection.
  answer.catch(() => {})
  return answer
}

/** Opens a Swagger UI page and waits until the operations are rendered. */
export async function openDocs(page: Page, url: string): Promise<void> {
  const response = await page.goto(url)
  if (response?.status() !== 200) throw new Error(`GET ${url} answered ${response?.status()}`)
  await page.locator('.opblock').first().waitFor()
}

export function operation(page: Page, method: string, path: string): Locator {
  return page
    .locator(`.opblock.opblock-${method.toLowerCase()}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
}

export interface Executed {
  /** The status the page shows in its live response. */
  shownStatus: string
  /** The HTTP response the page received. */
  response: Response
  /** Its body, for failure messages. */
  body: string
}

/**
 * Expands the operation, enters the JSON body (when given) in Try it out's editor,
 * clicks Execute and waits for the answer and for the page to show it.
 */
export async function execute(page: Page, method: string, path: string, body?: unknown): Promise<Executed> {
  const op = operation(page, method, path)
  // Expanded already when executed before: a second click would fold it.
  if (!(await op.getAttribute('class'))?.split(' ').includes('is-open')) {
    await op.locator('.opblock-summary-control').click()
  }
  // The docs enable Try it out from the start (tryItOutEnabled); click it otherwise.
  // (Once executed, the operation shows a second such button: Try it out's Cancel and Reset.)
  const tryItOut = op.locator('button.try-out__btn', { hasText: /^\s*Try it out\s*$/ })
  if ((await tryItOut.count()) > 0) await tryItOut.click()
  // A previous answer is cleared, so the status read below is this request's.
  const clear = op.locator('button.btn-clear')
  if (await clear.isVisible()) {
    await clear.click()
    await op.locator('.live-responses-table').waitFor({ state: 'detached' })
  }
  if (body !== undefined) await op.locator('textarea.body-param__text').fill(JSON.stringify(body, null, 2))
  const answered = nextResponse(page, (url, m) => m === method.toUpperCase() && url.pathname === path)
  await op.locator('button.execute').click()
  const response = await answered
  const status = op.locator('.live-responses-table .response .response-col_status')
  await status.waitFor()
  return { shownStatus: (await status.textContent())?.trim() ?? '', response, body: await response.text() }
}

/** Authorize -> Logout on the OAuth2 password form of `scheme` -> close: the page holds no token any more. */
export async function logout(page: Page, options: { scheme?: string } = {}): Promise<void> {
  await page.locator('.auth-wrapper button.authorize').click()
  const form = page
    .locator('.modal-ux .auth-container')
    .filter({ hasText: options.scheme ?? 'OAuth2PasswordBearer' })
  await form.locator('button', { hasText: 'Logout' }).click()
  await form.locator('#oauth_username').waitFor()
  await page.locator('.modal-ux button.close-modal').click()
  await page.locator('.modal-ux').waitFor({ state: 'detached' })
}

/**
 * Authorize -> the OAuth2 password form of `scheme` -> username and password ->
 * Authorize; waits for the token endpoint's answer and for the dialog to show the
 * scheme as authorized (screenshot taken then, if asked), then closes the dialog.
 * Returns the token endpoint's response.
 */
export async function authorize(
  page: Page,
  credentials: { username: string; password: string },
  options: { scheme?: string; screenshot?: string } = {},
): Promise<Response> {
  await page.locator('.auth-wrapper button.authorize').click()
  const form = page
    .locator('.modal-ux .auth-container')
    .filter({ hasText: options.scheme ?? 'OAuth2PasswordBearer' })
  await form.locator('#oauth_username').fill(credentials.username)
  await form.locator('#oauth_password').fill(credentials.password)
  const answered = nextResponse(page, (url, method) => method === 'POST' && url.pathname === '/auth/token')
  await form.locator('button.authorize').click()
  const response = await answered
  if (response.status() === 200) await form.locator('button', { hasText: 'Logout' }).waitFor()
  if (options.screenshot) await page.screenshot({ path: options.screenshot })
  await form.locator('button.btn-done').click()
  await page.locator('.modal-ux').waitFor({ state: 'detached' })
  return response
}
