-- Every transaction created in the window has, per currency (the accounts'), debits equal to
-- credits. One row per offending transaction and currency.
-- Two branches, one per kind of run: the literals are constants, so PostgreSQL drops the branch
-- whose WHERE is false before running anything. A full run groups every entry once; a period run
-- reads only the entries of the window's transactions, through the indexes.
WITH per_currency AS (
    SELECT e.transaction_id, a.currency, e.entry_type, e.amount, e.currency AS entry_currency
    FROM entries e
    JOIN accounts a ON a.id = e.account_id
    WHERE {period_start} = '-infinity'::timestamptz AND {period_end} = 'infinity'::timestamptz
    UNION ALL
    SELECT e.transaction_id, a.currency, e.entry_type, e.amount, e.currency
    FROM transactions t
    JOIN entries e ON e.transaction_id = t.id
    JOIN accounts a ON a.id = e.account_id
    WHERE NOT ({period_start} = '-infinity'::timestamptz AND {period_end} = 'infinity'::timestamptz)
      AND t.created_at >= {period_start} AND t.created_at < {period_end}
), sums AS (
    SELECT
        transaction_id,
        currency,
        coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0) AS debits,
        coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0) AS credits,
        count(*) AS entries,
        count(*) FILTER (WHERE entry_currency <> currency) AS mislabelled
    FROM per_currency
    GROUP BY transaction_id, currency
    HAVING coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0)
        <> coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0)
)
SELECT
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
