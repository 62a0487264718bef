-- migrate: no-transaction
-- Reverses 0004_emails_not_unique.sql. Fails if two users share an email by then: that is
-- the data the up migration allowed, and a rollback must not pick which account to keep.
-- An INVALID index left by an interrupted build is dropped first, then built again.
DROP INDEX CONCURRENTLY IF EXISTS "auth"."users_email_lower_key";
--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "users_email_lower_key" ON "auth"."users" USING btree (lower("email"));
