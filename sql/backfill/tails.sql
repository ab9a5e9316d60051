-- A fanned-out backfill's plan (migration 015): one pass over the entries from the first chunk's
-- end on, counting only those that arrived below {watermark}, which no transaction still running
-- can add to. Per account and chunk end ({ends}, in order), what the account's entries moved
-- from that end on, so a chunk reads one row per account. The pass sums each account's entries
-- per span between two ends (width_bucket; from the last end on is the last span), then adds the
-- spans up from the last: a span with no entries of the account shares the total of the next
-- span that has some. Written in the primary key's order, so its index grows at one edge.
WITH spans AS (
    SELECT
        account_id,
        width_bucket(created_at, {ends}) AS span,
        coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0) AS debits,
        coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0) AS credits
    FROM entries
    WHERE created_at >= {first_end} AND arrival_xid < {watermark}
    GROUP BY account_id, width_bucket(created_at, {ends})
), from_span_on AS (
    SELECT
        account_id,
        span,
        coalesce(lead(span) OVER later, 0) AS earlier_span,
        sum(debits) OVER later AS debits,
        sum(credits) OVER later AS credits
    FROM spans
    WINDOW later AS (PARTITION BY account_id ORDER BY span DESC)
)
SELECT
    {plan_id}::uuid AS plan_id,
    ({ends}::timestamptz[])[k] AS starts_at,
    s.account_id,
    s.debits,
    s.credits
FROM from_span_on s
CROSS JOIN LATERAL generate_series(s.earlier_span + 1, s.span) AS k
ORDER BY 2, 3
