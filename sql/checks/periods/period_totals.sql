-- The one pass a period run (or a range of them) makes over entries by value date: per account
-- and bucket, the totals of every entry from the first period's start on, with the account's
-- own currency and type carried along so no later query joins the accounts again.
-- {bounds} are the periods' starts and ends in order; width_bucket numbers the span between two
-- bounds, so each period is one bucket (run_windows maps buckets to runs) and entries after the
-- last period fall in the last bucket. A balance as of a period's end is the account's total
-- less what its entries in later buckets moved.
SELECT
    a.id AS account_id,
    a.currency,
    a.account_type,
    width_bucket(e.created_at, {bounds}) AS bucket,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS debits,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0) AS credits,
    count(*) AS entries,
    count(*) FILTER (WHERE e.currency <> a.currency) AS mislabelled,
    max(min_scale(e.amount)) AS finest_scale
FROM entries e
JOIN accounts a ON a.id = e.account_id
WHERE e.created_at >= {range_start}
GROUP BY a.id, width_bucket(e.created_at, {bounds})
