-- The work of one matching pass, dropped at its commit:
--   match_lines    the statement lines in no active match, of the bank accounts matched, in the
--                  bank account's currency, booked on or before the last day matched (all when
--                  NULL)
--   undone_pairs   a line and an entry a person unmatched: never paired again by a rule
--   proposed       the matches this pass makes
-- Each rule deletes from match_lines and match_entries (prepare_entries.sql) what it matched, so
-- the later rules, and the rounds of one, read only what is left.
-- Ties are broken by a fixed order: a line's (day, statement, page, line number, id), an entry's
-- (time, id); the same input always gives the same matches. day_rank is a line's place in that
-- order among the lines of its amount and day: the amount_date rule pairs the k-th line of a day
-- and amount with the k-th entry (same_day.sql) by a join, instead of ranking every candidate.
-- No global numbering and no ANALYZE: both cost as much as the matching they would serve.
-- {lines_within}: each bank account's lines, every one or those of the days near a change since
-- its last pass (matching.py), as literals.
CREATE TEMP TABLE match_lines ON COMMIT DROP AS
SELECT l.id, b.id AS bank_account_id, b.account_id, l.currency, l.amount, l.booking_date AS day,
       s.closing_date, s.sequence_number, s.page_number, l.line_number, l.end_to_end_id, l.bank_reference,
       row_number() OVER (PARTITION BY l.amount, l.booking_date, b.account_id, l.currency
                          ORDER BY s.closing_date, s.sequence_number, s.page_number, l.line_number, l.id) AS day_rank
FROM statement_lines l
JOIN statements s ON s.id = l.statement_id
JOIN bank_accounts b ON b.id = s.bank_account_id
WHERE ({lines_within})
  AND l.currency = b.currency
  AND ({through}::date IS NULL OR l.booking_date <= {through}::date)
  AND NOT EXISTS (SELECT FROM statement_match_links k WHERE k.statement_line_id = l.id AND k.active);

CREATE TEMP TABLE undone_pairs ON COMMIT DROP AS
SELECT DISTINCT l.statement_line_id AS line_id, e.entry_id
FROM statement_matches m
JOIN statement_match_links l ON l.match_id = m.id AND l.statement_line_id IS NOT NULL
JOIN statement_match_links e ON e.match_id = m.id AND e.entry_id IS NOT NULL
WHERE m.unmatched_at IS NOT NULL;

CREATE TEMP TABLE proposed (
    id                uuid,  -- given once every rule has run, if the matches are listed or recorded (matching.py)
    bank_account_id   uuid NOT NULL,
    rule              text NOT NULL,
    strategy          text NOT NULL,
    amount_difference numeric NOT NULL,
    days_difference   integer NOT NULL,
    line_ids          uuid[] NOT NULL,
    entry_ids         uuid[] NOT NULL
) ON COMMIT DROP;
