-- The one pass a period run (or a range of them) makes over entries by value date: per account,
-- entry currency and bucket, the totals of every entry from the first period's start on.
-- {bounds} are the periods' starts and ends in order; width_bucket numbers the span between two
-- bounds, so each period is one bucket (run_windows maps buckets to runs) and entries after the
-- last period fall in the last bucket, which balances as of a period's end subtract.
CREATE TEMP TABLE run_period_totals ON COMMIT DROP AS
SELECT
    e.account_id,
    e.currency,
    width_bucket(e.created_at, {bounds}) AS bucket,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS debits,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0) AS credits,
    count(*) AS entries
FROM entries e
WHERE e.created_at >= {range_start}
GROUP BY 1, 2, 3;
ANALYZE run_period_totals;

-- What each account's entries moved after the end of each bucket it has entries in, in the
-- account's normal sign: a balance as of a period's end is the total less this.
CREATE TEMP TABLE run_moved_after ON COMMIT DROP AS
SELECT
    p.account_id,
    p.bucket,
    coalesce(sum(p.moved) OVER (PARTITION BY p.account_id ORDER BY p.bucket DESC
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS moved_after
FROM (
    SELECT t.account_id, t.bucket,
           sum(balance_delta(a.account_type, 'debit', t.debits) + balance_delta(a.account_type, 'credit', t.credits)) AS moved
    FROM run_period_totals t
    JOIN accounts a ON a.id = t.account_id
    GROUP BY t.account_id, t.bucket
) p;
ANALYZE run_moved_after;
