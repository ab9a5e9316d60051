-- A dry run's matches, listed in the order of their (first) line.
SELECT p.id, p.bank_account_id, p.rule, p.strategy, p.amount_difference, p.days_difference, p.line_ids, p.entry_ids
FROM proposed p
JOIN statement_lines l ON l.id = p.line_ids[1]
JOIN statements s ON s.id = l.statement_id
ORDER BY l.booking_date, s.closing_date, s.sequence_number, s.page_number, l.line_number, l.id
