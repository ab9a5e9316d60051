-- The records the nightly audit_trail_complete compares because they are new to it: every row of
-- the ledger's tables written by a transaction at or after since (the last intact verification's
-- watermark), found by its xmin (audit_written_since, migration 017), which changes with any
-- write, triggers or not; and every record with an audit row written since. Read once per run, by
-- audit.verification.plan, which counts them and passes them to the check as literals (the check
-- reading them again would scan every ledger table a second time). One row per table: its ids.
WITH changed (table_name, record_id) AS (
    SELECT 'accounts', id FROM accounts WHERE audit_written_since(xmin, {since})
    UNION ALL SELECT 'transactions', id FROM transactions WHERE audit_written_since(xmin, {since})
    UNION ALL SELECT 'entries', id FROM entries WHERE audit_written_since(xmin, {since})
    UNION ALL SELECT 'bank_accounts', id FROM bank_accounts WHERE audit_written_since(xmin, {since})
    UNION ALL SELECT 'statement_files', id FROM statement_files WHERE audit_written_since(xmin, {since})
    UNION ALL SELECT 'statements', id FROM statements WHERE audit_written_since(xmin, {since})
    UNION ALL SELECT 'statement_lines', id FROM statement_lines WHERE audit_written_since(xmin, {since})
    UNION ALL SELECT 'statement_matches', id FROM statement_matches WHERE audit_written_since(xmin, {since})
    UNION ALL SELECT 'statement_match_links', id FROM statement_match_links WHERE audit_written_since(xmin, {since})
    UNION ALL
    SELECT table_name, record_id FROM audit_log WHERE txid >= {since}::bigint AND record_id IS NOT NULL
)
SELECT table_name, array_agg(DISTINCT record_id)::text AS ids FROM changed GROUP BY table_name
