// Every billing migration can be undone, and rolling billing back never touches auth
// (the shared round trip: @app/ops migrationsRoundTrip).
import { migrationsRoundTrip } from '@app/testkit'
import { beforeAll, inject, test } from 'vitest'

const roundTrip = migrationsRoundTrip({ service: 'billing', other: 'auth' })
beforeAll(() => roundTrip.setup(inject('testRun')))

test('billing: up, down, up gives identical catalogs, one migration at a time and all at once', () =>
  roundTrip.upDownUp())

test("rolling back billing never changes auth's schema", () => roundTrip.otherUntouched())
