-- Rollback of migration 014: alerts not yet delivered are dropped with the table.
DROP TABLE alert_outbox;
