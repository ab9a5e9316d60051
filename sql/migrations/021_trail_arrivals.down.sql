-- Rollback of migration 021: the nightly audit_trail_complete no longer finds new rows by
-- arrival (it does not hold arrival_xid in audit snapshots against the rows, so rolling back and
-- up again raises no finding).
-- Each column's index goes with it.
DROP INDEX idx_statements_arrival;
ALTER TABLE statement_match_links DROP COLUMN arrival_xid;
ALTER TABLE statement_lines DROP COLUMN arrival_xid;
ALTER TABLE statement_files DROP COLUMN arrival_xid;
ALTER TABLE bank_accounts DROP COLUMN arrival_xid;
ALTER TABLE transactions DROP COLUMN arrival_xid;
ALTER TABLE accounts DROP COLUMN arrival_xid;
