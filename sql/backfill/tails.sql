-- A fanned-out backfill's plan (migration 015): one pass over the entries from the first chunk's
-- end on, counting only those that arrived below {watermark}, which no transaction still running
-- can add to. One row per account: element k of its arrays is what its entries moved from the
-- k-th chunk end ({ends}, in order) on; an element past the end of the arrays is nothing. The
-- pass sums each account's entries per span between two ends (width_bucket; from the last end
-- on is the last span), then adds the spans up from the last: a span with no entries of the
-- account shares the total of the next span that has some. Written in the primary key's order,
-- so its index grows at one edge.
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
    s.account_id,
    array_agg(s.debits ORDER BY k) AS debits,
    array_agg(s.credits ORDER BY k) AS credits
FROM from_span_on s
CROSS JOIN LATERAL generate_series(s.earlier_span + 1, s.span) AS k
GROUP BY s.account_id
ORDER BY s.account_id
