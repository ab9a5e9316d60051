-- Every transaction has, per currency (the accounts'), debits equal to credits. One row per
-- offending transaction and currency. The one check a full run cannot answer from per-account
-- totals: it groups every entry by transaction, once, keeping a single signed sum per group (half
-- the state of separate debit and credit sums); only the unbalanced pairs, normally none, are
-- summed again for their details, through idx_entries_transaction.
WITH unbalanced AS MATERIALIZED (
    SELECT e.transaction_id, a.currency
    FROM entries e
    JOIN accounts a ON a.id = e.account_id
    GROUP BY e.transaction_id, a.currency
    HAVING sum(CASE WHEN e.entry_type = 'debit' THEN e.amount ELSE -e.amount END) <> 0
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
    {run_id} AS run_id,
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
