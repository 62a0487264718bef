-- Reverses 0002_login_rate_limits.sql. Generated from drizzle-kit's snapshots by ops (make add-migration); review it like the migration.
DROP TABLE "auth"."login_rate_limits" CASCADE;
