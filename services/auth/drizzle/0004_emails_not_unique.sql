-- migrate: no-transaction
-- emails not unique: hand-written SQL, run statement by statement without a transaction, under the
-- schema's lock, over a direct connection. Each statement on its own (a breakpoint line between
-- two, as drizzle-kit writes them), written to run twice (IF NOT EXISTS / IF EXISTS): after a
-- failure or a crash the whole file runs again. An INVALID index left by an interrupted CREATE
-- INDEX CONCURRENTLY is dropped and built again. Only what needs it belongs here (README:
-- Working with migrations).
-- Emails stop being unique: registration must not tell whether an address has an account
-- (docs/api.md). CONCURRENTLY, so logins and registrations go on while it runs.
DROP INDEX CONCURRENTLY IF EXISTS "auth"."users_email_lower_key";
