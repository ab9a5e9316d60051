-- The statements an external run judges: of the bank accounts in its scope (all when the array is
-- NULL), closing on or before the run's last day (all when NULL). Each with its lines' total and
-- its position in its account's order: by closing date, then sequence and page number. The four
-- checks read this table, made once in the run's snapshot.
CREATE TEMP TABLE external_statements ON COMMIT DROP AS
SELECT s.id, s.bank_account_id, b.account_id, b.identifier, s.bank_statement_id, s.sequence_number,
       s.page_number, s.currency, s.opening_balance, s.opening_date, s.closing_balance, s.closing_date,
       coalesce(l.total, 0) AS lines_total, coalesce(l.lines, 0) AS line_count,
       row_number() OVER (PARTITION BY s.bank_account_id
                          ORDER BY s.closing_date, s.sequence_number NULLS LAST, s.page_number NULLS FIRST,
                                   s.opening_date, s.bank_statement_id) AS position
FROM statements s
JOIN bank_accounts b ON b.id = s.bank_account_id
LEFT JOIN (SELECT statement_id, sum(amount) AS total, count(*) AS lines FROM statement_lines GROUP BY statement_id) l
       ON l.statement_id = s.id
WHERE ({bank_accounts}::uuid[] IS NULL OR b.id = ANY ({bank_accounts}::uuid[]))
  AND ({through}::date IS NULL OR s.closing_date <= {through}::date);

ANALYZE external_statements;
