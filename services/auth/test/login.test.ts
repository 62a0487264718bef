import { describe, expect, test } from 'vitest'
import { buildTestApp, register, requestToken, sql } from './helper.js'

const built = buildTestApp()
// An app of its own, so its tight limit leaves the other tests alone.
const limitedApp = buildTestApp({
  AUTH_TOKEN_RATE_LIMIT_MAX: '3',
  AUTH_TOKEN_RATE_LIMIT_WINDOW_SECONDS: '60',
})

describe('POST /auth/token', () => {
  test('unknown user, wrong password and disabled account get the very same answer', async () => {
    const { app, adminUrl } = await built
    const user = await register(app)
    const disabled = await register(app)
    await sql(adminUrl, 'UPDATE auth.users SET disabled = true WHERE id = $1', [disabled.id])

    const answers = await Promise.all([
      requestToken(app, { username: user.username, password: 'wrong-password' }),
      requestToken(app, { username: 'nobody_here', password: user.password }),
      requestToken(app, { username: disabled.username, password: disabled.password }),
      requestToken(app, { username: 'not a possible name', password: user.password }),
    ])
    for (const res of answers) {
      expect(res.statusCode).toBe(401)
      expect(res.headers['www-authenticate']).toBe('Bearer')
      expect(res.json()).toEqual({
        statusCode: 401,
        code: 'INVALID_CREDENTIALS',
        message: 'incorrect username or password',
      })
    }
  })

  test('takes a form, as OAuth2 clients send it; JSON is 415', async () => {
    const { app } = await built
    const user = await register(app)
    const res = await app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { username: user.username, password: user.password },
    })
    expect(res.statusCode).toBe(415)
    expect(res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' })
    expect(res.json().message).toContain('application/x-www-form-urlencoded')
  })

  test('accepts the fields Swagger UI sends, and refuses another grant type naming it', async () => {
    const { app } = await built
    const user = await register(app)
    const ok = await requestToken(app, {
      grant_type: 'password',
      username: user.username,
      password: user.password,
      scope: '',
      client_id: 'swagger',
    })
    expect(ok.statusCode).toBe(200)
    const bad = await requestToken(app, { grant_type: 'client_credentials', username: 'x', password: 'y' })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().message).toContain('body.grant_type')
    const missing = await requestToken(app, { username: user.username })
    expect(missing.statusCode).toBe(422)
    expect(missing.json().message).toContain('body.password')
  })
})

describe('rate limit', () => {
  test('per client address: past the limit, 429 RATE_LIMITED with Retry-After; other addresses unaffected', async () => {
    const { app } = await limitedApp
    const attempt = (remoteAddress: string) =>
      requestToken(app, { username: 'nobody_here', password: 'guess' }, { remoteAddress })

    for (let i = 0; i < 3; i++) expect((await attempt('10.0.0.1')).statusCode).toBe(401)
    const limited = await attempt('10.0.0.1')
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toMatchObject({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: expect.stringContaining('retry in'),
    })
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)

    expect((await attempt('10.0.0.2')).statusCode).toBe(401)
    // Only the token route is limited.
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({ url: '/auth/users/me', remoteAddress: '10.0.0.1' })
      expect(res.statusCode).toBe(401)
    }
  })
})
