-- audit_trail_complete as the nightly run makes it: the full form's comparison
-- (sql/checks/audit/audit_trail_complete.sql), for the records of records only: those written
-- or audited since the last intact verification, and those of the rotating slice. The latest
-- audit row of each is found through idx_audit_log_record. With months archived (archived_any),
-- a record is not held to lack its INSERT audit row, nor any audit row unless it was written since
-- the last intact run (since): those rows may be in the archived months, which the full run reads.
WITH records AS (
    {records}
), audited AS (
    SELECT DISTINCT ON (a.table_name, a.record_id) a.table_name, a.record_id, a.seq, a.operation, a.new_data,
           a.old_data,
           bool_or(a.operation = 'INSERT') OVER (PARTITION BY a.table_name, a.record_id ORDER BY a.seq DESC
                                                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS inserted
    FROM records r
    JOIN audit_log a ON a.record_id = r.record_id AND a.table_name = r.table_name
    ORDER BY a.table_name, a.record_id, a.seq DESC
), ledger AS (
    SELECT 'accounts' AS table_name, a.id, to_jsonb(a) AS data, a.xmin AS version FROM accounts a
    WHERE a.id IN (SELECT record_id FROM records WHERE table_name = 'accounts')
    UNION ALL
    SELECT 'transactions', t.id, to_jsonb(t), t.xmin AS version FROM transactions t
    WHERE t.id IN (SELECT record_id FROM records WHERE table_name = 'transactions')
    UNION ALL
    SELECT 'entries', e.id, to_jsonb(e), e.xmin AS version FROM entries e
    WHERE e.id IN (SELECT record_id FROM records WHERE table_name = 'entries')
    UNION ALL
    SELECT 'bank_accounts', b.id, to_jsonb(b), b.xmin AS version FROM bank_accounts b
    WHERE b.id IN (SELECT record_id FROM records WHERE table_name = 'bank_accounts')
    UNION ALL
    SELECT 'statement_files', f.id, to_jsonb(f), f.xmin AS version FROM statement_files f
    WHERE f.id IN (SELECT record_id FROM records WHERE table_name = 'statement_files')
    UNION ALL
    SELECT 'statements', s.id, to_jsonb(s), s.xmin AS version FROM statements s
    WHERE s.id IN (SELECT record_id FROM records WHERE table_name = 'statements')
    UNION ALL
    SELECT 'statement_lines', l.id, to_jsonb(l), l.xmin AS version FROM statement_lines l
    WHERE l.id IN (SELECT record_id FROM records WHERE table_name = 'statement_lines')
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
