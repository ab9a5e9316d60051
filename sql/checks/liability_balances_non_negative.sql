-- No liability account that a period's entries touched has a balance below zero as of the
-- period's end: its total (checkpoint plus arrivals, or every entry) less what its entries moved
-- after the end. An account's balance changes only through entries, so the periods that did not
-- touch it were checked by the period that last did. A whole-ledger run is one period that ends
-- at infinity: every account's balance now. One row per offending account and run.
WITH at_risk AS MATERIALIZED (
    -- A balance at any period's end is at least the account's total less every credit after the
    -- first period (bucket 1): only accounts for which that floor is below zero need their
    -- balance at each period's end, which takes a sort of their buckets. One grouping gives both
    -- the total and the floor; a whole-ledger run has no bucket after its one period.
    SELECT f.account_id, f.computed
    FROM (SELECT account_id, sum(total) AS computed, sum(total) - sum(later_credits) AS floor
          FROM (SELECT account_id, credits - debits AS total, 0::numeric AS later_credits FROM run_totals
                UNION ALL
                SELECT account_id, 0::numeric, credits FROM run_period_totals WHERE bucket > 1) m
          GROUP BY account_id) f
    JOIN accounts a ON a.id = f.account_id
    WHERE f.floor < 0 AND a.account_type = 'liability'
), as_of AS (
    SELECT
        p.account_id,
        p.bucket,
        r.computed - coalesce(sum(sum(p.credits - p.debits)) OVER (PARTITION BY p.account_id ORDER BY p.bucket DESC
                                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
            AS computed
    FROM run_period_totals p
    JOIN at_risk r ON r.account_id = p.account_id
    GROUP BY p.account_id, p.bucket, r.computed  -- a whole-ledger run has a row per entry currency
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
