-- No entry's amount is finer than its currency's minor unit (the account's currency: USD 2, JPY
-- 0). run_totals carries each account's finest scale, so only an account that has such an
-- amount, normally none, has its entries read (through idx_entries_account). One row per
-- offending entry: expected = the amount at the minor unit, actual = the amount.
WITH flagged AS MATERIALIZED (
    SELECT a.id, a.code, a.currency, c.minor_units
    FROM (SELECT account_id, max(finest_scale) AS finest FROM run_totals GROUP BY account_id) t
    JOIN accounts a ON a.id = t.account_id
    JOIN currencies c ON c.code = a.currency
    WHERE t.finest > c.minor_units
)
SELECT
    {run_id} AS run_id,
    f.id AS account_id,
    e.transaction_id,
    f.currency,
    round(e.amount, f.minor_units) AS expected,
    e.amount AS actual,
    e.amount - round(e.amount, f.minor_units) AS difference,
    jsonb_build_object(
        'entry_id', e.id,
        'account_code', f.code,
        'minor_units', f.minor_units,
        'amount', e.amount,
        'created_at', e.created_at
    ) AS details
FROM flagged f
JOIN entries e ON e.account_id = f.id
WHERE min_scale(e.amount) > f.minor_units
