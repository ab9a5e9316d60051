-- Per currency, the sum of debit entries equals the sum of credit entries.
-- One row per currency (matched rows included: there are few currencies).
SELECT
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    e.currency,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS expected,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0) AS actual,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0)
        - coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS difference,
    jsonb_build_object(
        'total_debits', coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0),
        'total_credits', coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0),
        'entries', count(*)
    ) AS details
FROM entries e
WHERE e.created_at >= {period_start} AND e.created_at < {period_end}
GROUP BY e.currency
