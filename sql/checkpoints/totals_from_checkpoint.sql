-- Every account's totals per entry currency: the checkpoint (entries below the previous
-- watermark) plus the entries that arrived since, found through idx_entries_arrival. The cost
-- follows the arrivals and the number of accounts, not the number of entries.
-- arrived counts the entries read beyond the checkpoint; settled_arrived those of them below the
-- new watermark, which the checkpoint takes in.
CREATE TEMP TABLE run_totals ON COMMIT DROP AS
SELECT
    account_id,
    currency,
    sum(debits) AS debits,
    sum(credits) AS credits,
    sum(entries) AS entries,
    sum(arrived) AS arrived,
    sum(settled_debits) AS settled_debits,
    sum(settled_credits) AS settled_credits,
    sum(settled_entries) AS settled_entries,
    sum(settled_arrived) AS settled_arrived
FROM (
    SELECT account_id, currency, debits, credits, entries, 0 AS arrived,
           debits AS settled_debits, credits AS settled_credits, entries AS settled_entries, 0 AS settled_arrived
    FROM reconciliation_checkpoints
    UNION ALL
    SELECT
        account_id,
        currency,
        coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0),
        coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0),
        count(*),
        count(*),
        coalesce(sum(amount) FILTER (WHERE entry_type = 'debit' AND arrival_xid < {watermark}), 0),
        coalesce(sum(amount) FILTER (WHERE entry_type = 'credit' AND arrival_xid < {watermark}), 0),
        count(*) FILTER (WHERE arrival_xid < {watermark}),
        count(*) FILTER (WHERE arrival_xid < {watermark})
    FROM entries
    WHERE arrival_xid >= {previous}
    GROUP BY account_id, currency
) parts
GROUP BY account_id, currency;
ANALYZE run_totals;
