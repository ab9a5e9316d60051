-- Rollback of migration 019: matching reads every entry's transaction and every match again.
DROP INDEX idx_statement_matches_undone;
DROP INDEX idx_transactions_external_reference;
