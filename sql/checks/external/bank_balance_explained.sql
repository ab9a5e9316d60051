-- Per bank account and statement: how far the bank's closing balance is from the mirrored
-- account's balance at the end of that day (in the ledger's time zone), less how far they were
-- apart at the opening of the account's first imported statement, against the bridge over the
-- same dates, each part read on its own:
--   unmatched_lines       the statement lines (of this and earlier statements) in no active match
--   unmatched_entries     the mirrored account's entries of those days in no active match
--   matched_differences   of the active matches of those lines: the lines less the entries
--   matched_across_dates  entries of those matches booked outside those days, less matched
--                         entries of those days whose lines come in a later statement
--   statement_breaks      the closing less the first opening less every line: what the statements
--                         themselves fail to add up to (statements_continuous reports each break)
-- expected: the change in the difference; actual: the bridge; a mismatch only when the unexplained
-- rest (expected less actual) is not zero. Amounts are signed as the bank sees the account.
WITH firsts AS (
    SELECT DISTINCT ON (bank_account_id) bank_account_id, opening_balance, opening_date
    FROM external_statements
    ORDER BY bank_account_id, position
), ledger AS (
    SELECT e.id, e.account_id, (e.created_at AT TIME ZONE {timezone})::date AS day,
           CASE e.entry_type WHEN 'debit' THEN e.amount ELSE -e.amount END AS amount,
           EXISTS (SELECT FROM statement_match_links k WHERE k.entry_id = e.id AND k.active) AS matched
    FROM entries e
    WHERE e.account_id IN (SELECT account_id FROM external_statements)
), lines AS (
    SELECT l.id, l.amount, p.bank_account_id, p.position, k.match_id
    FROM statement_lines l
    JOIN external_statements p ON p.id = l.statement_id
    LEFT JOIN statement_match_links k ON k.statement_line_id = l.id AND k.active
), parts AS (
    SELECT s.*, f.opening_balance AS first_opening, f.opening_date AS first_opening_date,
           (SELECT coalesce(sum(d.amount), 0) FROM ledger d
            WHERE d.account_id = s.account_id AND d.day <= s.closing_date) AS ledger_at_close,
           (SELECT coalesce(sum(d.amount), 0) FROM ledger d
            WHERE d.account_id = s.account_id AND d.day <= f.opening_date) AS ledger_at_opening,
           (SELECT coalesce(sum(d.amount), 0) FROM ledger d
            WHERE d.account_id = s.account_id AND d.day > f.opening_date AND d.day <= s.closing_date
              AND NOT d.matched) AS unmatched_entries,
           (SELECT coalesce(sum(d.amount), 0) FROM ledger d
            WHERE d.account_id = s.account_id AND d.day > f.opening_date AND d.day <= s.closing_date
              AND d.matched) AS matched_entries_of_days,
           (SELECT coalesce(sum(l.amount) FILTER (WHERE l.match_id IS NULL), 0) FROM lines l
            WHERE l.bank_account_id = s.bank_account_id AND l.position <= s.position) AS unmatched_lines,
           (SELECT coalesce(sum(l.amount) FILTER (WHERE l.match_id IS NOT NULL), 0) FROM lines l
            WHERE l.bank_account_id = s.bank_account_id AND l.position <= s.position) AS matched_lines,
           (SELECT coalesce(sum(l.amount), 0) FROM lines l
            WHERE l.bank_account_id = s.bank_account_id AND l.position <= s.position) AS all_lines,
           (SELECT coalesce(sum(CASE e.entry_type WHEN 'debit' THEN e.amount ELSE -e.amount END), 0)
            FROM statement_match_links k JOIN entries e ON e.id = k.entry_id
            WHERE k.active AND k.match_id IN (SELECT l.match_id FROM lines l
                                              WHERE l.bank_account_id = s.bank_account_id
                                                AND l.position <= s.position)) AS entries_of_matches
    FROM external_statements s
    JOIN firsts f USING (bank_account_id)
), bridged AS (
    SELECT p.*,
           (p.closing_balance - p.ledger_at_close) - (p.first_opening - p.ledger_at_opening) AS change,
           p.matched_lines - p.entries_of_matches AS matched_differences,
           p.entries_of_matches - p.matched_entries_of_days AS matched_across_dates,
           p.closing_balance - p.first_opening - p.all_lines AS statement_breaks
    FROM parts p
), totals AS (
    SELECT b.*, b.unmatched_lines - b.unmatched_entries + b.matched_differences + b.matched_across_dates
                + b.statement_breaks AS bridge
    FROM bridged b
)
SELECT {run_id}::uuid AS run_id, t.account_id, NULL::uuid AS transaction_id, t.currency,
       t.change AS expected, t.bridge AS actual, t.bridge - t.change AS difference,
       jsonb_build_object('bank_account', t.identifier, 'statement', t.bank_statement_id, 'statement_id', t.id,
                          'closing_date', t.closing_date,
                          'difference_at_close', t.closing_balance - t.ledger_at_close,
                          'difference_at_first_opening', t.first_opening - t.ledger_at_opening,
                          'first_opening_date', t.first_opening_date,
                          'unmatched_lines', t.unmatched_lines, 'unmatched_entries', t.unmatched_entries,
                          'matched_differences', t.matched_differences,
                          'matched_across_dates', t.matched_across_dates,
                          'statement_breaks', t.statement_breaks,
                          'unexplained', t.change - t.bridge) AS details
FROM totals t
