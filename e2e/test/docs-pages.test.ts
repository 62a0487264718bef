// Issue 9: both services' Swagger UI pages, used the way a person uses them, in
// headless Chromium against the real auth and billing processes on a test
// database: register on auth's page, become an admin (as `make admin` makes one),
// log in with its Authorize button, log in on billing's page too (its form posts to
// auth across origins), create a plan and subscribe from the page, then find the
// row in the database; then a plain user logs in on billing's page and is refused
// the plan (403) but subscribes. The tests below are the steps of that one visit,
// in order; each builds on the previous ones.
import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { createScratchDatabase, type ScratchDatabase } from '@app/db'
import { runtimeUrl } from '@app/migrations/authoring'
import { freePort, promoteToAdmin, registeredUser, type ServiceProcess, startService } from '@app/testkit'
import pg from 'pg'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, inject, test } from 'vitest'
import { launchChromium } from './support/browser.js'
import { authorize, execute, logout, openDocs } from './support/swagger-ui.js'

/** auth's signing key: it starts with none only under DEV_SECRETS_DIR. */
function signingKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
}

/** e2e/test-artifacts/<name>.png (gitignored). */
function artifact(name: string): string {
  const folder = path.resolve(import.meta.dirname, '..', 'test-artifacts')
  mkdirSync(folder, { recursive: true })
  return path.join(folder, `${name}.png`)
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost'])

let database: ScratchDatabase
let auth: ServiceProcess
let billing: ServiceProcess
/** auth as billing's page reaches it: localhost, while billing's process uses 127.0.0.1. */
let authPublicUrl: string
let browser: Browser
let context: BrowserContext
let authPage: Page
let billingPage: Page
/** Every URL the pages requested, and every script error or console error they had. */
const requested: string[] = []
const pageProblems: string[] = []
/** Every Content-Security-Policy violation the pages reported (console or DOM event). */
const cspViolations: string[] = []
/** The Content-Security-Policy each docs page was served with. */
const docsPolicies: string[] = []

const user = {
  username: 'swagger_user',
  email: 'swagger_user@example.com',
  password: 'correct horse battery staple',
}
let userId: string | undefined
let planId: string | undefined
let userSubscriptionId: string | undefined

beforeAll(async () => {
  // First, so a machine without Chromium fails at once, before anything starts.
  browser = await launchChromium()
  const run = inject('testRun')
  database = await createScratchDatabase(run.adminUrl, {
    prefix: `${run.prefix}_e2e`,
    template: run.prepared.template,
  })
  const [authPort, billingPort] = [await freePort(), await freePort()]
  const authUrl = `http://127.0.0.1:${authPort}`
  authPublicUrl = `http://localhost:${authPort}`
  // The template is migrated, so nothing is left to apply: the runtime roles' URLs are all they need.
  const urlAs = (name: 'auth' | 'billing') => runtimeUrl(database.url, { name }, {})
  // Both started before either is awaited (billing reaches auth only on requests); afterAll stops them.
  auth = await startService({
    service: 'auth',
    port: authPort,
    env: {
      DATABASE_URL: urlAs('auth'),
      LOG_LEVEL: 'warn',
      AUTH_CORS_ORIGINS: `http://127.0.0.1:${billingPort}`,
      AUTH_JWT_PRIVATE_KEY: signingKeyPem(),
    },
  })
  billing = await startService({
    service: 'billing',
    port: billingPort,
    env: {
      DATABASE_URL: urlAs('billing'),
      LOG_LEVEL: 'warn',
      AUTH_URL: authUrl,
      AUTH_PUBLIC_URL: authPublicUrl,
    },
  })
  await Promise.all([auth.waitUntilReady(), billing.waitUntilReady()])

  context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  context.on('request', (request) => requested.push(request.url()))
  context.on('response', async (response) => {
    if (/^\/docs\/?$/.test(new URL(response.url()).pathname) && response.status() === 200) {
      docsPolicies.push((await response.allHeaders())['content-security-policy'] ?? 'none')
    }
  })
  // Before any page script: the DOM's own report of each violation, besides the console line.
  await context.exposeBinding('reportCspViolation', ({ page }, text: string) =>
    cspViolations.push(`${page.url()}: ${text}`),
  )
  // Page code as text: this package's TypeScript has no DOM types.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) =>
      window.reportCspViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline')))`,
  })
  authPage = await watchedPage()
})

/**
 * A new tab, in front, its errors recorded. A page gets its tab when its turn comes:
 * Chromium throttles animation frames in background tabs, which slows every click.
 */
async function watchedPage(): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (error) => pageProblems.push(`${page.url()}: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') pageProblems.push(`${page.url()}: console: ${message.text()}`)
    if (/Content Security Policy/i.test(message.text()))
      cspViolations.push(`${page.url()}: ${message.text()}`)
  })
  return page
}

afterAll(async () => {
  // Screenshots whatever happened: they show what the page looked like at the end.
  for (const [name, page] of [
    ['auth-docs', authPage],
    ['billing-docs', billingPage],
  ] as const) {
    if (page) {
      await page.bringToFront()
      await page.screenshot({ path: artifact(name), fullPage: true })
    }
  }
  await browser?.close()
  await Promise.all([billing?.stop(), auth?.stop()])
  await database?.drop()
})

let failedStep: string | undefined

/** A step of the visit: once one fails, the later ones fail at once, naming it. */
function step(name: string, body: () => Promise<void>) {
  test(name, async () => {
    if (failedStep) throw new Error(`not run: the step "${failedStep}" failed`)
    try {
      await body()
    } catch (error) {
      failedStep = name
      if (error instanceof Error && pageProblems.length) {
        error.message += `\nthe pages reported:\n  ${pageProblems.join('\n  ')}`
      }
      throw error
    }
  })
}

/**
 * Everything the page's origin keeps in localStorage and sessionStorage, as text: a
 * login must leave neither the password nor the token there (Swagger UI's
 * persistAuthorization would write both).
 */
async function browserStorage(page: Page): Promise<string> {
  return page.evaluate<string>(
    `JSON.stringify([localStorage, sessionStorage].map((storage) =>
      Object.fromEntries(Object.keys(storage).map((key) => [key, storage.getItem(key)]))))`,
  )
}

/** After a login through the page: neither secret (nor the token's payload) is in the browser's storage. */
async function expectNoSecretStored(page: Page, token: string): Promise<void> {
  const stored = await browserStorage(page)
  expect(stored).not.toContain(user.password)
  expect(stored).not.toContain(token)
  expect(stored).not.toContain(token.split('.')[1])
}

/** As the superuser, bypassing both services. */
async function adminQuery<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  try {
    return (await client.query<T>(text)).rows
  } finally {
    await client.end()
  }
}

step("auth's page: register through Try it out on POST /auth/users", async () => {
  await openDocs(authPage, `${auth.baseUrl}/docs`)
  const { shownStatus, response, body } = await execute(authPage, 'POST', '/auth/users', user)
  expect(shownStatus, body).toBe('201')
  const created = (await response.json()) as { id: string; username: string }
  expect(created.username).toBe(user.username)
  userId = created.id
  // An admin, as `make admin user=swagger_user` makes one: its logins get the admin scopes.
  await promoteToAdmin(database.url, user.username)
})

step(
  "auth's page: log in through Authorize's OAuth2 password form; the protected routes then work",
  async () => {
    const token = await authorize(authPage, user)
    expect(token.status()).toBe(200)
    const me = await execute(authPage, 'GET', '/auth/users/me')
    expect(me.shownStatus, me.body).toBe('200')
    expect(await me.response.json()).toMatchObject({ id: userId, username: user.username })
    // The page held the token (the call above carried it); the browser's storage must not.
    const { access_token: issued, scope } = (await token.json()) as { access_token: string; scope: string }
    expect(me.response.request().headers().authorization).toBe(`Bearer ${issued}`)
    // With no scope ticked in the dialog, the admin gets every scope of the role.
    expect(scope).toBe('users:read billing:plans:write')
    const list = await execute(authPage, 'GET', '/auth/users')
    expect(list.shownStatus, list.body).toBe('200')
    await expectNoSecretStored(authPage, issued)
  },
)

step("billing's page: Authorize logs in at auth (its public URL, across origins)", async () => {
  billingPage = await watchedPage()
  await openDocs(billingPage, `${billing.baseUrl}/docs`)
  const token = await authorize(billingPage, user, { screenshot: artifact('billing-authorize') })
  expect(token.url()).toBe(`${authPublicUrl}/auth/token`)
  expect(token.status()).toBe(200)
  await expectNoSecretStored(billingPage, ((await token.json()) as { access_token: string }).access_token)
})

step("billing's page: create a plan, subscribe to it: 201 on the page, the row in the database", async () => {
  const plan = await execute(billingPage, 'POST', '/billing/subscriptions', {
    category: 'premium',
    priceMinor: 999,
    currency: 'EUR',
  })
  expect(plan.shownStatus, plan.body).toBe('201')
  planId = ((await plan.response.json()) as { id: string }).id

  const subscribed = await execute(billingPage, 'POST', '/billing/user-subscriptions', {
    subscriptionId: planId,
  })
  expect(subscribed.shownStatus, subscribed.body).toBe('201')
  userSubscriptionId = ((await subscribed.response.json()) as { id: string }).id

  const rows = await adminQuery<{ id: string; user_id: string; subscription_id: string; status: string }>(
    'SELECT id, user_id, subscription_id, status::text FROM billing.user_subscriptions',
  )
  expect(rows).toEqual([
    { id: userSubscriptionId, user_id: userId, subscription_id: planId, status: 'active' },
  ])
})

step(
  "billing's page as a plain user: creating a plan is 403 INSUFFICIENT_SCOPE, subscribing 201",
  async () => {
    // Registered through the API: auth's page was covered above.
    const plain = await registeredUser({ authUrl: auth.baseUrl, prefix: 'swagger_plain' })
    await logout(billingPage)
    const token = await authorize(billingPage, plain)
    expect(token.status()).toBe(200)
    expect(((await token.json()) as { scope: string }).scope).toBe('')

    const problemsBefore = pageProblems.length
    const before = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM billing.subscriptions')
    const refused = await execute(billingPage, 'POST', '/billing/subscriptions', {
      category: 'not mine to sell',
      priceMinor: 1,
      currency: 'EUR',
    })
    expect(refused.shownStatus, refused.body).toBe('403')
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'INSUFFICIENT_SCOPE' })
    expect(await adminQuery('SELECT count(*)::int AS n FROM billing.subscriptions')).toEqual(before)

    const subscribed = await execute(billingPage, 'POST', '/billing/user-subscriptions', {
      subscriptionId: planId,
    })
    expect(subscribed.shownStatus, subscribed.body).toBe('201')
    expect(((await subscribed.response.json()) as { userId: string }).userId).toBe(plain.id)
    // Chromium logs every 4xx answer as a console error: this step's one 403 was the point.
    const refusedLogged = pageProblems.findIndex(
      (problem, index) => index >= problemsBefore && /status of 403 \(Forbidden\)/.test(problem),
    )
    expect(refusedLogged).toBeGreaterThanOrEqual(0)
    pageProblems.splice(refusedLogged, 1)
  },
)

step('the pages loaded everything from 127.0.0.1/localhost, with no script or console error', async () => {
  // Not vacuous: the recording saw both pages' assets and the cross-origin login.
  expect(requested).toContain(`${auth.baseUrl}/docs/static/swagger-ui-bundle.js`)
  expect(requested).toContain(`${billing.baseUrl}/docs/static/swagger-ui-bundle.js`)
  expect(requested).toContain(`${authPublicUrl}/auth/token`)
  const outside = requested.filter((url) => {
    const { protocol, hostname } = new URL(url)
    return !(protocol === 'data:' || protocol === 'blob:' || LOCAL_HOSTS.has(hostname))
  })
  expect(outside).toEqual([])
  expect(pageProblems).toEqual([])
})

step('both docs pages ran under their Content-Security-Policy and broke none of it', async () => {
  // Not vacuous: each page came with the docs' policy (no inline script, nothing from elsewhere).
  expect(docsPolicies.length).toBeGreaterThanOrEqual(2)
  for (const policy of docsPolicies) {
    expect(policy).toMatch(/(^|; )script-src 'self'(;|$)/)
    expect(policy).toContain("frame-ancestors 'none'")
  }
  expect(cspViolations).toEqual([])
})
