-- The ledger records the nightly audit_trail_complete compares with their trail: every row of the
-- ledger's tables written by a transaction at or after since (the last intact verification's
-- watermark; NULL: every row), found by its xmin (audit_written_since, migration 017), which
-- changes with any write, triggers or not; every record with an audit row written since; and every record with an audit row in the
-- rotating slice's blocks (targets, those of seals up to verified_head), so that a row
-- deleted or rewritten long ago without an audit row is found within the slice's cycle.
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
    SELECT table_name, record_id FROM audit_log WHERE {since}::bigint IS NULL OR txid >= {since}::bigint
    UNION ALL
    SELECT a.table_name, a.record_id
    FROM (SELECT DISTINCT block FROM ({targets}) t WHERE seal_no <= {verified_head}) ob
    JOIN audit_log a ON a.seq >= ob.block * 4096 AND a.seq < ob.block * 4096 + 4096
)
SELECT DISTINCT table_name, record_id FROM changed WHERE record_id IS NOT NULL
