-- Per currency, the sum of debit entries equals the sum of credit entries.
-- One row per currency (matched rows included: there are few currencies). The currency is the
-- account's: an entry labelled with another currency cannot move money between currencies unseen.
SELECT
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    a.currency,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS expected,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0) AS actual,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0)
        - coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS difference,
    jsonb_build_object(
        'total_debits', coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0),
        'total_credits', coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0),
        'entries', count(*),
        'entries_labelled_with_another_currency', count(*) FILTER (WHERE e.currency <> a.currency)
    ) AS details
FROM entries e
JOIN accounts a ON a.id = e.account_id
WHERE e.created_at >= {period_start} AND e.created_at < {period_end}
GROUP BY a.currency
