-- Every row of the tables the audit trail covers, as audit_trail_complete compares them (the full
-- run, and the first nightly run): its table, key, JSON form and xmin.
SELECT 'accounts' AS table_name, a.id, to_jsonb(a) AS data, a.xmin AS version FROM accounts a
UNION ALL
SELECT 'transactions', t.id, to_jsonb(t), t.xmin FROM transactions t
UNION ALL
SELECT 'entries', e.id, to_jsonb(e), e.xmin FROM entries e
UNION ALL
SELECT 'bank_accounts', b.id, to_jsonb(b), b.xmin FROM bank_accounts b
UNION ALL
SELECT 'statement_files', f.id, to_jsonb(f), f.xmin FROM statement_files f
UNION ALL
SELECT 'statements', s.id, to_jsonb(s), s.xmin FROM statements s
UNION ALL
SELECT 'statement_lines', l.id, to_jsonb(l), l.xmin FROM statement_lines l
UNION ALL
SELECT 'statement_matches', m.id, to_jsonb(m), m.xmin FROM statement_matches m
UNION ALL
SELECT 'statement_match_links', k.id, to_jsonb(k), k.xmin FROM statement_match_links k
