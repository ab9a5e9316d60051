-- The trial balance of one day: every account's balance as of the day's end ({day_end}), in its
-- own currency and in {reporting_currency} at the day's rate (day_rate over [{day_start},
-- {day_end})), replacing the day's rows. A balance as of the day's end is the stored balance less
-- what the entries after it moved (stored balances are reconciled against the entries by
-- stored_balances_match_entries), so a recent day reads only the few entries since, through
-- idx_entries_created.
DELETE FROM trial_balances WHERE day = {day};
INSERT INTO trial_balances (day, account_id, account_code, account_type, currency, balance,
                            reporting_currency, rate, reporting_balance)
SELECT
    {day},
    a.id,
    a.code,
    a.account_type,
    a.currency,
    b.balance,
    {reporting_currency},
    r.rate,
    round(b.balance * r.rate, (SELECT coalesce(minor_units, 4) FROM currencies WHERE code = {reporting_currency}))
FROM accounts a
LEFT JOIN (
    SELECT e.account_id, sum(balance_delta(acc.account_type, e.entry_type, e.amount)) AS moved
    FROM entries e
    JOIN accounts acc ON acc.id = e.account_id
    WHERE e.created_at >= {day_end}
    GROUP BY e.account_id
) m ON m.account_id = a.id
CROSS JOIN LATERAL (SELECT a.balance - coalesce(m.moved, 0) AS balance) b
-- One rate per currency, not per account.
JOIN (SELECT currency, day_rate(currency, {reporting_currency}, {day_start}, {day_end}) AS rate
      FROM (SELECT DISTINCT currency FROM accounts) c) r ON r.currency = a.currency
WHERE a.created_at < {day_end} OR b.balance <> 0;

-- What the asset reports: per account type, the accounts and their total in the reporting
-- currency, and how many accounts had no rate for the day.
SELECT account_type, count(*), coalesce(sum(reporting_balance), 0), count(*) FILTER (WHERE rate IS NULL)
FROM trial_balances
WHERE day = {day}
GROUP BY account_type
ORDER BY account_type;
