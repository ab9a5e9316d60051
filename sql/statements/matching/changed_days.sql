-- The days of one bank account on which something changed since its last pass ({watermark}: that
-- pass's snapshot xmin, so "since" may hold a little it saw, never less than it missed):
--   a ledger entry of the mirrored account arrived (backdated or not: by its arrival, not its day)
--   a statement of the account arrived
--   a match was made, by a person or by a pass (that one too: what it took may leave another
--   group possible for a line it did not read, as the sum rule draws its nearest candidates)
--   a match was undone: its line and entries are free again
--   a line lies beyond the last pass's day ({since_day}) up to this pass's ({through})
-- The matcher retries every line in no active match within twice the window of such a day:
-- an entry can complete a group of lines within the window of it (sum, many_to_one).
SELECT DISTINCT day
FROM (
    SELECT (e.created_at AT TIME ZONE {timezone})::date AS day
    FROM entries e
    WHERE e.arrival_xid >= {watermark} AND e.account_id = {account} AND e.currency = {currency}
    UNION ALL
    SELECT l.booking_date
    FROM statements s
    JOIN statement_lines l ON l.statement_id = s.id
    WHERE s.bank_account_id = {bank_account} AND s.arrival_xid >= {watermark}
    UNION ALL
    SELECT l.booking_date
    FROM statement_lines l
    JOIN statements s ON s.id = l.statement_id
    WHERE s.bank_account_id = {bank_account} AND l.booking_date > {since_day}::date
      AND ({through}::date IS NULL OR l.booking_date <= {through}::date)
    UNION ALL
    SELECT coalesce(l.booking_date, (e.created_at AT TIME ZONE {timezone})::date)
    FROM statement_matches m
    JOIN statement_match_links k ON k.match_id = m.id
    LEFT JOIN statement_lines l ON l.id = k.statement_line_id
    LEFT JOIN entries e ON e.id = k.entry_id
    WHERE m.bank_account_id = {bank_account}
      AND (m.arrival_xid >= {watermark} OR (m.unmatched_at IS NOT NULL AND m.unmatched_xid >= {watermark}))
) changed
ORDER BY day
