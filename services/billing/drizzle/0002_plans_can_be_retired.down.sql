-- Reverses 0002_plans_can_be_retired.sql. Generated from drizzle-kit's snapshots by ops (make add-migration); review it like the migration.
ALTER TABLE "billing"."subscriptions" DROP COLUMN "retired_at";
