-- No liability account's balance, computed from all its entries (credits - debits), is below
-- zero. One row per offending account. Reads the run's per-account totals.
SELECT
    {run_id} AS run_id,
    a.id AS account_id,
    NULL::uuid AS transaction_id,
    a.currency,
    0::numeric AS expected,
    s.computed AS actual,
    s.computed AS difference,
    jsonb_build_object(
        'account_code', a.code,
        'account_name', a.name,
        'owner', a.user_id,
        'computed_balance', s.computed,
        'minimum', 0,
        'as_of', 'infinity'::timestamptz
    ) AS details
FROM (SELECT account_id, sum(credits) - sum(debits) AS computed FROM run_totals GROUP BY account_id) s
JOIN accounts a ON a.id = s.account_id
WHERE a.account_type = 'liability' AND s.computed < 0
