-- Per mapped bank account and currency: how much of its bank's record has been imported, and the
-- latest closing balance the bank reported.
SELECT b.identifier, b.currency, a.code AS ledger_account,
       count(s.id) AS statements,
       coalesce(sum(s.line_count), 0)::bigint AS lines,
       max(s.closing_date) AS latest_closing_date,
       (array_agg(s.closing_balance ORDER BY s.closing_date DESC, s.sequence_number DESC NULLS LAST))[1]
           AS latest_closing_balance
FROM bank_accounts b
JOIN accounts a ON a.id = b.account_id
LEFT JOIN (SELECT st.*, (SELECT count(*) FROM statement_lines l WHERE l.statement_id = st.id) AS line_count
           FROM statements st) s ON s.bank_account_id = b.id
GROUP BY b.identifier, b.currency, a.code
ORDER BY b.identifier, b.currency
