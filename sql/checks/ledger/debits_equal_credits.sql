-- Per currency, the sum of debit entries equals the sum of credit entries, over the whole ledger.
-- One row per currency (matched rows included: there are few currencies). The currency is the
-- account's: an entry labelled with another currency cannot move money between currencies unseen.
-- Reads the run's per-account totals (run_totals), not the entries.
SELECT
    {run_id} AS run_id,
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    a.currency,
    sum(t.debits) AS expected,
    sum(t.credits) AS actual,
    sum(t.credits) - sum(t.debits) AS difference,
    jsonb_build_object(
        'total_debits', sum(t.debits),
        'total_credits', sum(t.credits),
        'entries', sum(t.entries),
        'entries_labelled_with_another_currency', coalesce(sum(t.entries) FILTER (WHERE t.currency <> a.currency), 0)
    ) AS details
FROM run_totals t
JOIN accounts a ON a.id = t.account_id
GROUP BY a.currency
