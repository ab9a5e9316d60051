-- Every account's totals per entry currency: the checkpoint (entries below the previous
-- watermark) plus the entries that arrived since, found through idx_entries_arrival. The cost
-- follows the arrivals and the number of accounts, not the number of entries. arrived counts the
-- entries read beyond the checkpoint; the settled_ columns leave out those at or above the new
-- watermark, and become the next checkpoint.
WITH arrivals AS (
    SELECT
        {totals},
        coalesce(sum(amount) FILTER (WHERE entry_type = 'debit' AND arrival_xid >= {watermark}), 0) AS unsettled_debits,
        coalesce(sum(amount) FILTER (WHERE entry_type = 'credit' AND arrival_xid >= {watermark}), 0) AS unsettled_credits,
        count(*) FILTER (WHERE arrival_xid >= {watermark}) AS unsettled_entries,
        max(min_scale(amount)) AS finest_scale
    FROM entries
    WHERE arrival_xid >= {previous}
    GROUP BY account_id, currency
)
SELECT
    account_id,
    currency,
    coalesce(c.debits, 0) + coalesce(a.debits, 0) AS debits,
    coalesce(c.credits, 0) + coalesce(a.credits, 0) AS credits,
    coalesce(c.entries, 0) + coalesce(a.entries, 0) AS entries,
    coalesce(a.entries, 0) AS arrived,
    coalesce(c.debits, 0) + coalesce(a.debits, 0) - coalesce(a.unsettled_debits, 0) AS settled_debits,
    coalesce(c.credits, 0) + coalesce(a.credits, 0) - coalesce(a.unsettled_credits, 0) AS settled_credits,
    coalesce(c.entries, 0) + coalesce(a.entries, 0) - coalesce(a.unsettled_entries, 0) AS settled_entries,
    greatest(c.finest_scale, a.finest_scale) AS finest_scale
FROM reconciliation_checkpoints c
FULL JOIN arrivals a USING (account_id, currency)
