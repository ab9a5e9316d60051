-- Per run and currency, the entries of the run's period have debits equal to credits (a
-- whole-ledger run: every entry). One row per run and currency (matched rows included: there are
-- few currencies). The currency is the account's: an entry labelled with another currency cannot
-- move money between currencies unseen. Reads the run's totals by period, not the entries.
SELECT
    w.run_id,
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    t.currency,
    sum(t.debits) AS expected,
    sum(t.credits) AS actual,
    sum(t.credits) - sum(t.debits) AS difference,
    jsonb_build_object(
        'total_debits', sum(t.debits),
        'total_credits', sum(t.credits),
        'entries', sum(t.entries),
        'entries_labelled_with_another_currency', sum(t.mislabelled)
    ) AS details
FROM run_period_totals t
JOIN run_windows w ON w.bucket = t.bucket
GROUP BY w.run_id, t.currency
