-- Reverses 0003_user_roles_and_login_backoff.sql. Generated from drizzle-kit's snapshots by ops (make add-migration); review it like the migration.
DROP TABLE "auth"."login_failures" CASCADE;
--> statement-breakpoint
ALTER TABLE "auth"."users" DROP COLUMN "role";
--> statement-breakpoint
DROP TYPE "auth"."user_role";
