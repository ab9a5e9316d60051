-- Migration 021: the transaction that wrote each row of the tables the audit trail covers
-- (audit.verification.TRAILED), so that the nightly audit_trail_complete finds the rows that
-- arrived since its last intact verification by index, as the ledger checks find new entries
-- (migration 007), instead of reading every row's xmin: that scan grew with the whole ledger.
-- The column is set by its default, so a row inserted with the triggers off arrives all the same;
-- a row changed or deleted with them off keeps its arrival, and is compared when the rotating
-- slice reaches its audit rows (within N nightly runs), or by `audit verify --full`.
-- entries (007), statements and statement_matches (020) have theirs. Rows from before this
-- migration arrive at '0': they were compared by the runs before it.
-- Each table the same way: the column added at '0' for the rows already there, then its default
-- made the writing transaction's id, and an index to find what arrived since by. The indexes are
-- built in the migration's transaction: postings wait while the transactions' one builds, as
-- for migration 019.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['accounts', 'transactions', 'bank_accounts', 'statement_files', 'statement_lines',
                             'statement_match_links'] LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN arrival_xid xid8 NOT NULL DEFAULT %L', t, '0');
        EXECUTE format('ALTER TABLE %I ALTER COLUMN arrival_xid SET DEFAULT pg_current_xact_id()', t);
        EXECUTE format('CREATE INDEX %I ON %I (arrival_xid)', 'idx_' || t || '_arrival', t);
    END LOOP;
END $$;
CREATE INDEX idx_statements_arrival ON statements (arrival_xid);
