-- No entry has an amount finer than its currency's minor unit (the account's currency: USD 2,
-- JPY 0). The run's totals by period carry each account's finest scale per period, so only an
-- account that has such an amount in a period, normally none, has its entries of that period
-- read (through idx_entries_account). One row per offending entry and run: expected = the amount
-- at the minor unit, actual = the amount.
WITH flagged AS MATERIALIZED (
    -- DISTINCT: a whole-ledger run has a row per account and entry currency.
    SELECT DISTINCT p.account_id, p.bucket, p.currency, c.minor_units
    FROM run_period_totals p
    JOIN currencies c ON c.code = p.currency
    WHERE p.finest_scale > c.minor_units
)
SELECT
    w.run_id,
    f.account_id,
    e.transaction_id,
    f.currency,
    round(e.amount, f.minor_units) AS expected,
    e.amount AS actual,
    e.amount - round(e.amount, f.minor_units) AS difference,
    jsonb_build_object(
        'entry_id', e.id,
        'account_code', a.code,
        'minor_units', f.minor_units,
        'amount', e.amount,
        'created_at', e.created_at
    ) AS details
FROM flagged f
JOIN run_windows w ON w.bucket = f.bucket
JOIN entries e ON e.account_id = f.account_id AND e.created_at >= w.period_start AND e.created_at < w.period_end
JOIN accounts a ON a.id = f.account_id
WHERE min_scale(e.amount) > f.minor_units
