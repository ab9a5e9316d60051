-- The one pass a period run (or a range of them) makes over entries by value date: per account
-- and bucket, the totals of the entries from the first period's start to the last one's end,
-- with the account's own currency and type carried along so no later query joins the accounts
-- again. {bounds} are the periods' starts and ends in order; width_bucket numbers the span
-- between two bounds, so each period is one bucket (run_windows maps buckets to runs).
-- A balance as of a period's end is the account's total less what its entries in later buckets
-- moved, so the last bucket (width_bucket's for the last bound and beyond) holds each account's
-- tail: what moved from the last period's end on. That is the entries after {range_end}, or,
-- when a fanned-out backfill's plan {plan_id} holds tails from that end (its {tail_index}-th,
-- migration 015), the plan's total of those that arrived below its watermark plus those that
-- arrived since ({tail_watermark}; '0' without a plan).
WITH tail AS (
    SELECT account_id, sum(debits) AS debits, sum(credits) AS credits
    FROM (
        SELECT account_id, coalesce(debits[{tail_index}], 0) AS debits, coalesce(credits[{tail_index}], 0) AS credits
        FROM backfill_tails
        WHERE plan_id = {plan_id}
        UNION ALL
        SELECT
            account_id,
            coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0),
            coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0)
        FROM entries
        WHERE created_at >= {range_end} AND arrival_xid >= {tail_watermark}
        GROUP BY account_id
    ) moved
    GROUP BY account_id
)
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
WHERE e.created_at >= {range_start} AND e.created_at < {range_end}
GROUP BY a.id, width_bucket(e.created_at, {bounds})
UNION ALL
SELECT a.id, a.currency, a.account_type, width_bucket({range_end}, {bounds}), t.debits, t.credits, 0, 0, NULL
FROM tail t
JOIN accounts a ON a.id = t.account_id
