-- No liability account that a period's entries touched has a balance below zero as of the
-- period's end: its total (checkpoint plus arrivals) less what its entries moved after the end.
-- An account's balance changes only through entries, so the periods that did not touch it were
-- checked by the period that last did. One row per offending account and period.
WITH moved AS (
    SELECT p.account_id, p.bucket, sum(p.credits) - sum(p.debits) AS moved
    FROM run_period_totals p
    JOIN accounts a ON a.id = p.account_id
    WHERE a.account_type = 'liability'
    GROUP BY p.account_id, p.bucket
), as_of AS (
    SELECT
        w.run_id,
        w.period_end,
        m.account_id,
        t.computed - coalesce(sum(m.moved) OVER (PARTITION BY m.account_id ORDER BY m.bucket DESC
                                                 RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS computed
    FROM moved m
    JOIN (SELECT account_id, sum(credits) - sum(debits) AS computed FROM run_totals GROUP BY account_id) t
        ON t.account_id = m.account_id
    LEFT JOIN run_windows w ON w.bucket = m.bucket
)
SELECT
    s.run_id,
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
        'as_of', s.period_end
    ) AS details
FROM as_of s
JOIN accounts a ON a.id = s.account_id
WHERE s.run_id IS NOT NULL AND s.computed < 0
