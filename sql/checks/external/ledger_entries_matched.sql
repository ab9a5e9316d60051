-- Each entry of a mirrored account, booked after the opening of its first imported statement and
-- on or before the latest statement's closing date, and older than the grace window (the bank may
-- not have it yet), is in an active match: a row per entry in none (the ledger moved the amount,
-- the bank nothing). Amounts are signed as the bank sees the account.
WITH spans AS (
    SELECT account_id, min(opening_date) AS first_day,
           least(max(closing_date), (now() AT TIME ZONE {timezone})::date - {grace_days}::int) AS last_day
    FROM external_statements
    GROUP BY account_id
)
SELECT {run_id}::uuid AS run_id, e.account_id, e.transaction_id, e.currency,
       CASE e.entry_type WHEN 'debit' THEN e.amount ELSE -e.amount END AS expected, 0::numeric AS actual,
       CASE e.entry_type WHEN 'debit' THEN -e.amount ELSE e.amount END AS difference,
       jsonb_build_object('aspect', 'unmatched', 'entry_id', e.id, 'entry_type', e.entry_type,
                          'booking_date', (e.created_at AT TIME ZONE {timezone})::date,
                          'external_reference', t.metadata ->> 'external_reference',
                          'transaction_code', t.transaction_code, 'description', t.description) AS details
FROM entries e
JOIN spans p ON p.account_id = e.account_id
JOIN transactions t ON t.id = e.transaction_id
WHERE e.created_at >= (p.first_day + 1)::timestamp AT TIME ZONE {timezone}
  AND e.created_at < (p.last_day + 1)::timestamp AT TIME ZONE {timezone}
  AND NOT EXISTS (SELECT FROM statement_match_links k WHERE k.entry_id = e.id AND k.active)
