-- Rollback of migration 020: every pass retries every line in no active match again.
DROP TABLE statement_match_passes;
DROP INDEX idx_statement_matches_arrival;
ALTER TABLE statement_matches DROP COLUMN unmatched_xid;
ALTER TABLE statement_matches DROP COLUMN arrival_xid;
ALTER TABLE statements DROP COLUMN arrival_xid;
