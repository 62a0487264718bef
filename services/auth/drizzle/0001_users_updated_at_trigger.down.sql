-- Reverses 0001_users_updated_at_trigger.sql (hand-written: it is a custom migration).
DROP TRIGGER IF EXISTS "users_set_updated_at" ON "auth"."users";
--> statement-breakpoint
DROP FUNCTION IF EXISTS "auth"."set_updated_at"();
