-- Rollback of migration 015: plans are derived data; a backfill under way reads the entries instead.
DROP TABLE backfill_tails;
DROP TABLE backfill_plans;
