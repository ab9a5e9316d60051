-- Every transaction has, per currency (the accounts'), debits equal to credits. One row per
-- offending transaction and currency, in the run whose period holds the transaction's creation.
-- The offending (transaction_id, currency) pairs, normally none, come from
-- unbalanced_transactions.sql, as each kind of run can best find them: ledger/ reads every entry,
-- periods/ the few that the last full run has not judged. Their entries are summed here again
-- for the details, through idx_entries_transaction. {bucket_runs} holds the run of each span
-- between two {bounds} (NULL for a gap between periods; a whole-ledger run is one period from
-- -infinity to infinity): this is read where the run reads, and a replica cannot hold the
-- run_windows table.
WITH unbalanced AS MATERIALIZED (
    {unbalanced}
), sums AS (
    SELECT
        u.transaction_id,
        u.currency,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS debits,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0) AS credits,
        count(*) AS entries,
        count(*) FILTER (WHERE e.currency <> a.currency) AS mislabelled
    FROM unbalanced u
    JOIN entries e ON e.transaction_id = u.transaction_id
    JOIN accounts a ON a.id = e.account_id AND a.currency = u.currency
    GROUP BY u.transaction_id, u.currency
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
CROSS JOIN LATERAL (SELECT ({bucket_runs}::uuid[])[width_bucket(t.created_at, {bounds}::timestamptz[])] AS run_id) w
WHERE w.run_id IS NOT NULL
