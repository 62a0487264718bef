// A repository's query written once, for the service's database and for a
// transaction on it alike, and built once per database session instead of once
// per request.
//
// Drizzle binds a prepared query (`.prepare(name)`) to the session it was built
// on: the pool, or one connection's transaction. So the built statement is kept per
// session: one for the pool, and one per pooled connection for transactions
// (createServiceDatabase runs each connection's transactions on one Drizzle
// session). No request builds SQL, and PostgreSQL parses and plans each name once per
// connection. Whether the name reaches PostgreSQL at all is the pool's setting
// (createServiceDatabase's preparedStatements, DB_PREPARED_STATEMENTS), not the
// repository's: with it off the same statement is sent unnamed, parsed every time.

/** What a Drizzle database or transaction exposes of its session (the key). */
interface HasSession {
  readonly _: { readonly session: object }
}

/**
 * `build(db)` returns the Drizzle prepared query (`db.select()...prepare(name)`,
 * placeholders for the values); the result returns it for a database or a
 * transaction, building it on the first call for that session.
 */
export function preparedPerSession<TDb extends HasSession, TPrepared>(
  build: (db: TDb) => TPrepared,
): (db: TDb) => TPrepared {
  const bySession = new WeakMap<object, TPrepared>()
  return (db) => {
    const session = db._.session
    let prepared = bySession.get(session)
    if (prepared === undefined) {
      prepared = build(db)
      bySession.set(session, prepared)
    }
    return prepared
  }
}
