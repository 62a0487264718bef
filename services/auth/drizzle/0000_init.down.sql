-- Reverses 0000_init.sql. Generated from drizzle-kit's snapshots by ops (make add-migration); review it like the migration.
DROP TABLE "auth"."users" CASCADE;
