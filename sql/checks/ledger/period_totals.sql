-- A whole-ledger run's totals by period, in periods/period_totals.sql's columns, so that the
-- checks read one form whatever the run: the whole ledger is one period, from -infinity to
-- infinity (bucket 1; no tail: nothing moves after it). Its rows are run_totals' (every entry, or
-- the checkpoint plus what arrived since), one per account and entry currency, with the
-- account's currency and type. The run reads it as a view over run_totals, not grouped again:
-- a check reads it for what reading run_totals with the accounts costs.
SELECT
    t.account_id,
    a.currency,
    a.account_type,
    1 AS bucket,
    t.debits,
    t.credits,
    t.entries,
    CASE WHEN t.currency <> a.currency THEN t.entries ELSE 0 END AS mislabelled,
    t.finest_scale
FROM run_totals t
JOIN accounts a ON a.id = t.account_id
