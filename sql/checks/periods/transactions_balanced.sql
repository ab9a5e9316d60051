-- Every transaction created in a period has, per currency (the accounts'), debits equal to
-- credits. One row per offending transaction and currency.
-- The last full run ({full_run}) judged every transaction whose entries had all arrived below its
-- watermark ({full_watermark}), and entries are appended, never changed in place: such a
-- transaction is unbalanced now exactly when that run found it so. Only those, and the
-- transactions with an entry that arrived since, are summed again, through the indexes, so the
-- cost follows the arrivals rather than the range. (With no full run yet, the watermark is 0 and
-- every transaction is summed.) {bucket_runs} holds each bucket's run (NULL for a gap between
-- periods): a replica that reads this cannot hold the run_windows table.
WITH judged AS (
    SELECT transaction_id
    FROM reconciliation_items
    WHERE run_id = {full_run} AND check_name = 'transactions_balanced'
    UNION
    SELECT transaction_id
    FROM entries
    WHERE arrival_xid >= {full_watermark}
), sums AS (
    SELECT
        e.transaction_id,
        a.currency,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS debits,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0) AS credits,
        count(*) AS entries,
        count(*) FILTER (WHERE e.currency <> a.currency) AS mislabelled
    FROM judged j
    JOIN transactions t ON t.id = j.transaction_id
    JOIN entries e ON e.transaction_id = t.id
    JOIN accounts a ON a.id = e.account_id
    WHERE t.created_at >= {range_start} AND t.created_at < {range_end}
    GROUP BY e.transaction_id, a.currency
    HAVING coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0)
        <> coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0)
)
SELECT
    w.run_id,
    NULL::uuid AS account_id,
    b.transaction_id,
    b.currency,
    b.debits AS expected,
    b.credits AS actual,
    b.credits - b.debits AS difference,
    jsonb_build_object(
        'transaction_code', t.transaction_code,
        'initiated_by', t.initiated_by,
        'description', t.description,
        'created_at', t.created_at,
        'debits', b.debits,
        'credits', b.credits,
        'entries', b.entries,
        'entries_labelled_with_another_currency', b.mislabelled
    ) AS details
FROM sums b
JOIN transactions t ON t.id = b.transaction_id
CROSS JOIN LATERAL (SELECT ({bucket_runs}::uuid[])[width_bucket(t.created_at, {bounds})] AS run_id) w
WHERE w.run_id IS NOT NULL
