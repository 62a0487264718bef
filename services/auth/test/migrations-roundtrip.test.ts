// Every auth migration can be undone, and rolling auth back never touches billing
// (the shared round trip: @app/ops migrationsRoundTrip).
import { migrationsRoundTrip } from '@app/testkit'
import { beforeAll, inject, test } from 'vitest'

const roundTrip = migrationsRoundTrip({ service: 'auth', other: 'billing' })
beforeAll(() => roundTrip.setup(inject('testRun')))

test('auth: up, down, up gives identical catalogs, one migration at a time and all at once', () =>
  roundTrip.upDownUp())

test("rolling back auth never changes billing's schema", () => roundTrip.otherUntouched())
