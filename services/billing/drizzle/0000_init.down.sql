-- Reverses 0000_init.sql. Generated from drizzle-kit's snapshots by ops (make add-migration); review it like the migration.
DROP TABLE "billing"."idempotency_keys" CASCADE;
--> statement-breakpoint
DROP TABLE "billing"."subscriptions" CASCADE;
--> statement-breakpoint
DROP TABLE "billing"."user_subscriptions" CASCADE;
--> statement-breakpoint
DROP TYPE "billing"."user_subscription_status";
