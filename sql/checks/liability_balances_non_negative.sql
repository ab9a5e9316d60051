-- No liability account's balance, computed from its entries up to the window's end
-- (credits - debits), is below zero. One row per offending account.
-- A period run checks the liability accounts its window touched: an account's balance changes
-- only through entries, so the others were checked by the window that last touched them.
-- The literals are constants: PostgreSQL drops the in_scope branch whose WHERE is false.
WITH in_scope AS (
    SELECT a.*
    FROM accounts a
    WHERE a.account_type = 'liability' AND {period_start} = '-infinity'::timestamptz
    UNION ALL
    SELECT a.*
    FROM accounts a
    WHERE a.account_type = 'liability' AND {period_start} <> '-infinity'::timestamptz
      AND a.id IN (SELECT account_id FROM entries
                   WHERE created_at >= {period_start} AND created_at < {period_end})
), sums AS (
    SELECT
        e.account_id,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0)
            - coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS computed
    FROM entries e
    WHERE e.created_at < {period_end}
      AND e.account_id IN (SELECT id FROM in_scope)
    GROUP BY e.account_id
)
SELECT
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
        'as_of', {period_end}
    ) AS details
FROM in_scope a
JOIN sums s ON s.account_id = a.id
WHERE s.computed < 0
