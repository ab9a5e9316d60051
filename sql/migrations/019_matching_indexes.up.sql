-- Migration 019: what statement matching looks up, indexed, so that a pass reads what it can match
-- rather than the whole history (ledger_pipeline/statements/matching.py):
--   the ledger transactions that carry an external reference: the reference rule reads them
--   instead of every candidate entry's transaction (partial: most transactions carry none, and
--   those cost nothing to write)
--   the matches a person undid: every pass excludes their pairs, and they are few
-- Plain CREATE INDEX, as the runner runs each migration in one transaction (CONCURRENTLY cannot):
-- postings wait while the transactions' index is built, a scan of that table, so on a large ledger
-- apply it when postings can pause.
CREATE INDEX idx_transactions_external_reference ON transactions (id) WHERE metadata ? 'external_reference';
CREATE INDEX idx_statement_matches_undone ON statement_matches (id) WHERE unmatched_at IS NOT NULL;
