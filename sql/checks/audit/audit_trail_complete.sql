-- Every row of the ledger (accounts, transactions, entries), of bank statements
-- (bank_accounts, statement_files, statements, statement_lines) and of their matches
-- (statement_matches, statement_match_links) has its INSERT audit row, and stands as the
-- new_data of its latest audit row; every record whose latest audit row is not a DELETE still
-- exists. A ledger row written, changed or deleted with the triggers disabled breaks one of these.
-- One pass over each table (ledger: sql/audit/ledger_table.sql for each), joined to the latest
-- audit row per record (audited: sql/audit/latest_audit_rows.sql). Columns added to a table after a
-- row's latest audit row (the audit row lacks the key) are not held against it. Nor is
-- arrival_xid: it records when the row arrived, for the checks, and rolling migration 021 back and
-- up again sets it afresh on every row. expected = 1 row agreeing with its trail, actual = 0;
-- details = the table, the record and the columns that differ.
-- The full run compares every row with every audit row (archived months read back), as does the
-- first nightly run (no intact verification yet: every row, the live log). The nightly run
-- compares the records of records (sql/audit/nightly/trail_records.sql: written or audited since
-- the last intact verification, or in the rotating slice), read by key
-- (sql/audit/nightly/only_records.sql), with their audit rows
-- (sql/audit/nightly/record_audit_rows.sql); with months archived (archived_any), a record is
-- not held to lack its INSERT audit row, nor any audit row unless it was written since the last
-- intact verification (since): those rows may be in the archived months, which the full run reads.
WITH records AS (
    {records}
), audited AS (
    SELECT a.table_name, a.record_id, a.seq, a.operation, a.new_data - 'arrival_xid' AS new_data, a.old_data,
           a.inserted
    FROM ({audited}) a
), ledger AS (
    {ledger}
), compared AS (
    SELECT coalesce(l.table_name, au.table_name) AS table_name, coalesce(l.id, au.record_id) AS record_id,
           l.data, au.seq, au.new_data, coalesce(l.data, au.new_data, au.old_data) AS known,
           CASE
               WHEN l.id IS NULL THEN 'deleted without an audit row'
               WHEN au.record_id IS NULL THEN
                   CASE WHEN NOT {archived_any} OR ({since}::bigint IS NOT NULL AND audit_written_since(l.version, {since}))
                        THEN 'no audit row' END
               WHEN NOT au.inserted AND NOT {archived_any} THEN 'no INSERT audit row'
               WHEN au.operation = 'DELETE' THEN 'present, but its latest audit row deletes it'
               WHEN au.new_data = l.data THEN NULL
               WHEN au.new_data = l.data - ARRAY(SELECT k FROM jsonb_object_keys(l.data) k WHERE NOT au.new_data ? k)
                   THEN NULL
               ELSE 'differs from its latest audit row'
           END AS problem
    FROM ledger l
    FULL JOIN audited au ON au.table_name = l.table_name AND au.record_id = l.id
    WHERE l.id IS NOT NULL OR au.operation <> 'DELETE'
)
SELECT
    {run_id} AS run_id,
    CASE c.table_name WHEN 'accounts' THEN c.record_id ELSE (c.known ->> 'account_id')::uuid END AS account_id,
    CASE c.table_name WHEN 'transactions' THEN c.record_id ELSE (c.known ->> 'transaction_id')::uuid END
        AS transaction_id,
    (c.known ->> 'currency')::char(3) AS currency,
    1::numeric AS expected,
    0::numeric AS actual,
    -1::numeric AS difference,
    jsonb_build_object(
        'subject', format('%s %s: %s', c.table_name, c.record_id, c.problem),
        'table', c.table_name, 'record_id', c.record_id, 'problem', c.problem, 'latest_audit_seq', c.seq,
        'stored', (SELECT jsonb_object_agg(k, v) FROM jsonb_each(c.data) e(k, v)
                   WHERE c.new_data IS NOT NULL AND c.new_data ? k AND c.new_data -> k IS DISTINCT FROM v),
        'audited', (SELECT jsonb_object_agg(k, v) FROM jsonb_each(c.new_data) e(k, v)
                    WHERE c.data IS NOT NULL AND c.data -> k IS DISTINCT FROM v)
    ) AS details
FROM compared c
WHERE c.problem IS NOT NULL
