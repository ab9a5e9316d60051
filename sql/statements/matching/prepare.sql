-- The work tables of one matching pass, dropped at its commit:
--   match_lines    the statement lines in no active match, of the bank accounts matched
--                  (all when the array is NULL), in the bank account's currency, booked on or
--                  before the last day matched (all when NULL)
--   match_entries  the entries in no active match of the ledger accounts mirroring them, within
--                  the date window of those lines, signed as the bank sees the account (a debit of
--                  the mirrored asset account is a bank credit, positive), on their day in the
--                  ledger's time zone
--   undone_pairs   a line and an entry a person unmatched: never paired again by a rule
--   proposed       the matches this pass makes
-- ord numbers lines and entries in a fixed order (day, then position, then id): every tie is
-- broken by it, so the same input always gives the same matches.
CREATE TEMP TABLE match_lines ON COMMIT DROP AS
SELECT l.id, b.id AS bank_account_id, b.account_id, l.currency, l.amount, l.booking_date AS day,
       l.end_to_end_id, l.bank_reference,
       row_number() OVER (ORDER BY l.booking_date, s.closing_date, s.sequence_number, s.page_number,
                                   l.line_number, l.id) AS ord,
       false AS taken
FROM statement_lines l
JOIN statements s ON s.id = l.statement_id
JOIN bank_accounts b ON b.id = s.bank_account_id
WHERE ({bank_accounts}::uuid[] IS NULL OR b.id = ANY ({bank_accounts}::uuid[]))
  AND l.currency = b.currency
  AND ({through}::date IS NULL OR l.booking_date <= {through}::date)
  AND NOT EXISTS (SELECT FROM statement_match_links k WHERE k.statement_line_id = l.id AND k.active);

CREATE TEMP TABLE match_entries ON COMMIT DROP AS
SELECT e.id, e.account_id, e.currency,
       CASE e.entry_type WHEN 'debit' THEN e.amount ELSE -e.amount END AS amount,
       (e.created_at AT TIME ZONE {timezone})::date AS day,
       t.metadata ->> 'external_reference' AS reference,
       row_number() OVER (ORDER BY e.created_at, e.id) AS ord,
       false AS taken
FROM entries e
JOIN transactions t ON t.id = e.transaction_id
JOIN (SELECT account_id, currency, min(day) - {window} AS first_day, max(day) + {window} + 1 AS after_day
      FROM match_lines GROUP BY account_id, currency) r ON r.account_id = e.account_id AND r.currency = e.currency
WHERE e.created_at >= r.first_day::timestamp AT TIME ZONE {timezone}
  AND e.created_at < r.after_day::timestamp AT TIME ZONE {timezone}
  AND NOT EXISTS (SELECT FROM statement_match_links k WHERE k.entry_id = e.id AND k.active);

CREATE TEMP TABLE undone_pairs ON COMMIT DROP AS
SELECT DISTINCT l.statement_line_id AS line_id, e.entry_id
FROM statement_matches m
JOIN statement_match_links l ON l.match_id = m.id AND l.statement_line_id IS NOT NULL
JOIN statement_match_links e ON e.match_id = m.id AND e.entry_id IS NOT NULL
WHERE m.unmatched_at IS NOT NULL;

CREATE TEMP TABLE proposed (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bank_account_id   uuid NOT NULL,
    rule              text NOT NULL,
    strategy          text NOT NULL,
    amount_difference numeric NOT NULL,
    days_difference   integer NOT NULL,
    line_ids          uuid[] NOT NULL,
    entry_ids         uuid[] NOT NULL,
    ord               bigint NOT NULL
) ON COMMIT DROP;

ANALYZE match_lines;
ANALYZE match_entries;
