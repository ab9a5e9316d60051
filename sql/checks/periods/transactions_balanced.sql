-- Every transaction created in a period has, per currency (the accounts'), debits equal to
-- credits. One row per offending transaction and currency. For a day the planner reads the day's
-- transactions and their entries through the indexes; for a long range, one hash join. Only the
-- few unbalanced transactions are then placed in their period.
WITH sums AS (
    SELECT
        e.transaction_id,
        a.currency,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS debits,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0) AS credits,
        count(*) AS entries,
        count(*) FILTER (WHERE e.currency <> a.currency) AS mislabelled
    FROM transactions t
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
JOIN run_windows w ON w.bucket = width_bucket(t.created_at, {bounds})
