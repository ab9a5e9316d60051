-- Rollback of migration 018: the matches go with their tables (their audit rows stay in the log),
-- external reconciliation runs with their items, and audit_write goes back to migration 016's.
DROP TABLE statement_match_links;
DROP TABLE statement_matches;
DROP INDEX idx_statement_lines_booking;

DELETE FROM reconciliation_runs WHERE run_type = 'external';
ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_run_type_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_run_type_check
    CHECK (run_type IN ('daily', 'hourly', 'manual', 'backfill', 'escalation'));

-- restore: audit_write from 016_statements.up.sql
