-- The ledger rows of the records the nightly audit_trail_complete compares (records, a CTE of
-- sql/checks/audit/audit_trail_complete.sql), as sql/audit/ledger_rows.sql gives them, each table
-- read by its key for its own records: one (table_name, id) IN over the union of the tables probed
-- every table's key for every record (BENCHMARKS.md).
SELECT 'accounts' AS table_name, a.id, to_jsonb(a) AS data, a.xmin AS version FROM accounts a
WHERE a.id IN (SELECT record_id FROM records WHERE table_name = 'accounts')
UNION ALL
SELECT 'transactions', t.id, to_jsonb(t), t.xmin FROM transactions t
WHERE t.id IN (SELECT record_id FROM records WHERE table_name = 'transactions')
UNION ALL
SELECT 'entries', e.id, to_jsonb(e), e.xmin FROM entries e
WHERE e.id IN (SELECT record_id FROM records WHERE table_name = 'entries')
UNION ALL
SELECT 'bank_accounts', b.id, to_jsonb(b), b.xmin FROM bank_accounts b
WHERE b.id IN (SELECT record_id FROM records WHERE table_name = 'bank_accounts')
UNION ALL
SELECT 'statement_files', f.id, to_jsonb(f), f.xmin FROM statement_files f
WHERE f.id IN (SELECT record_id FROM records WHERE table_name = 'statement_files')
UNION ALL
SELECT 'statements', s.id, to_jsonb(s), s.xmin FROM statements s
WHERE s.id IN (SELECT record_id FROM records WHERE table_name = 'statements')
UNION ALL
SELECT 'statement_lines', l.id, to_jsonb(l), l.xmin FROM statement_lines l
WHERE l.id IN (SELECT record_id FROM records WHERE table_name = 'statement_lines')
UNION ALL
SELECT 'statement_matches', m.id, to_jsonb(m), m.xmin FROM statement_matches m
WHERE m.id IN (SELECT record_id FROM records WHERE table_name = 'statement_matches')
UNION ALL
SELECT 'statement_match_links', k.id, to_jsonb(k), k.xmin FROM statement_match_links k
WHERE k.id IN (SELECT record_id FROM records WHERE table_name = 'statement_match_links')
