-- Each statement's opening plus its lines is its closing; each opening is the previous statement's
-- closing; sequence numbers run on without a gap or a repeat (a page after the first continues
-- its statement's number). A row per fault, with what it is about in details.aspect.
SELECT {run_id}::uuid AS run_id, s.account_id, NULL::uuid AS transaction_id, s.currency,
       s.closing_balance AS expected, s.opening_balance + s.lines_total AS actual,
       s.opening_balance + s.lines_total - s.closing_balance AS difference,
       jsonb_build_object('aspect', 'lines_add_up', 'bank_account', s.identifier,
                          'statement', s.bank_statement_id, 'statement_id', s.id,
                          'opening_balance', s.opening_balance, 'lines_total', s.lines_total,
                          'lines', s.line_count, 'closing_balance', s.closing_balance,
                          'closing_date', s.closing_date) AS details
FROM external_statements s
WHERE s.opening_balance + s.lines_total <> s.closing_balance
UNION ALL
SELECT {run_id}::uuid, s.account_id, NULL::uuid, s.currency,
       p.closing_balance, s.opening_balance, s.opening_balance - p.closing_balance,
       jsonb_build_object('aspect', 'opening_is_previous_closing', 'bank_account', s.identifier,
                          'statement', s.bank_statement_id, 'statement_id', s.id,
                          'previous_statement', p.bank_statement_id, 'previous_closing_date', p.closing_date,
                          'opening_date', s.opening_date)
FROM external_statements s
JOIN external_statements p ON p.bank_account_id = s.bank_account_id AND p.position = s.position - 1
WHERE s.opening_balance <> p.closing_balance
UNION ALL
SELECT {run_id}::uuid, s.account_id, NULL::uuid, s.currency,
       p.sequence_number + CASE WHEN s.page_number > 1 THEN 0 ELSE 1 END, s.sequence_number,
       s.sequence_number - p.sequence_number - CASE WHEN s.page_number > 1 THEN 0 ELSE 1 END,
       jsonb_build_object('aspect', CASE WHEN s.sequence_number = p.sequence_number AND coalesce(s.page_number, 1) <= 1
                                         THEN 'sequence_repeated' ELSE 'sequence_gap' END,
                          'bank_account', s.identifier, 'statement', s.bank_statement_id, 'statement_id', s.id,
                          'previous_statement', p.bank_statement_id, 'page', s.page_number)
FROM external_statements s
JOIN external_statements p ON p.bank_account_id = s.bank_account_id AND p.position = s.position - 1
WHERE s.sequence_number IS NOT NULL AND p.sequence_number IS NOT NULL
  AND s.sequence_number <> p.sequence_number + CASE WHEN s.page_number > 1 THEN 0 ELSE 1 END
