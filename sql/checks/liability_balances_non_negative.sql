-- No liability account that a period's entries touched has a balance below zero as of the
-- period's end: its total (checkpoint plus arrivals, or every entry) less what its entries moved
-- after the end. An account's balance changes only through entries, so the periods that did not
-- touch it were checked by the period that last did. A whole-ledger run is one period that ends
-- at infinity: every account's balance now. One row per offending account and run.
WITH totals AS (
    SELECT account_id, sum(credits) - sum(debits) AS computed FROM run_totals GROUP BY account_id
), at_risk AS MATERIALIZED (
    -- A balance at any period's end is at least the account's total less every credit from the
    -- first period's start on (its balance at that start, less every debit since): only
    -- accounts for which that floor is below zero need their balance at each period's end,
    -- which takes a sort of their buckets.
    SELECT t.account_id, t.computed
    FROM (SELECT account_id, sum(credits) AS credits
          FROM run_period_totals
          WHERE account_type = 'liability'
          GROUP BY account_id) c
    JOIN totals t ON t.account_id = c.account_id
    WHERE t.computed - c.credits < 0
), as_of AS (
    SELECT
        p.account_id,
        p.bucket,
        r.computed - coalesce(sum(p.credits - p.debits) OVER (PARTITION BY p.account_id ORDER BY p.bucket DESC
                                                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
            AS computed
    FROM run_period_totals p
    JOIN at_risk r ON r.account_id = p.account_id
)
SELECT
    w.run_id,
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
        'as_of', w.period_end
    ) AS details
FROM as_of s
JOIN run_windows w ON w.bucket = s.bucket
JOIN accounts a ON a.id = s.account_id
WHERE s.computed < 0
