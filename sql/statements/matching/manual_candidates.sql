-- A manual match's line and entries, as matching reads them: the line's bank account and the
-- ledger account that mirrors it, each entry's account and signed amount and day in the ledger's
-- time zone, and any active match either is in already.
SELECT 'line' AS side, l.id, b.id AS bank_account_id, b.account_id, l.currency, l.amount, l.booking_date AS day,
       (SELECT k.match_id FROM statement_match_links k WHERE k.statement_line_id = l.id AND k.active) AS match_id
FROM statement_lines l
JOIN statements s ON s.id = l.statement_id
JOIN bank_accounts b ON b.id = s.bank_account_id
WHERE l.id = %(line_id)s
UNION ALL
SELECT 'entry', e.id, NULL, e.account_id, e.currency,
       CASE e.entry_type WHEN 'debit' THEN e.amount ELSE -e.amount END,
       (e.created_at AT TIME ZONE %(timezone)s)::date,
       (SELECT k.match_id FROM statement_match_links k WHERE k.entry_id = e.id AND k.active)
FROM entries e
WHERE e.id = ANY (%(entry_ids)s)
