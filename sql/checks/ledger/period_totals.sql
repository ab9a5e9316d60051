-- A whole-ledger run's totals by period, in periods/period_totals.sql's columns, so that the
-- checks read one form whatever the run: the whole ledger is one period, from -infinity to
-- infinity (bucket 1; no tail: nothing moves after it), each account's totals those of run_totals
-- (every entry, or the checkpoint plus what arrived since). Every account is listed, those
-- without entries with nothing: the whole ledger covers them all. The run reads it as a view
-- over run_totals: each check reads it once, so writing it down would only add a pass.
SELECT
    a.id AS account_id,
    a.currency,
    a.account_type,
    1 AS bucket,
    coalesce(sum(t.debits), 0) AS debits,
    coalesce(sum(t.credits), 0) AS credits,
    coalesce(sum(t.entries), 0) AS entries,
    coalesce(sum(t.entries) FILTER (WHERE t.currency <> a.currency), 0) AS mislabelled,
    max(t.finest_scale) AS finest_scale
FROM accounts a
LEFT JOIN run_totals t ON t.account_id = a.id
GROUP BY a.id
