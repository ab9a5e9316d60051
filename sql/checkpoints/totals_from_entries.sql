-- Every account's totals per entry currency, read from every entry once: the full run's pass over
-- entries, and the ground truth the checkpoint is rebuilt from. The settled_ columns are the part
-- below the new watermark, which becomes the next checkpoint; the rest are what the checks judge.
CREATE TEMP TABLE run_totals ON COMMIT DROP AS
SELECT
    account_id,
    currency,
    coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0) AS debits,
    coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0) AS credits,
    count(*) AS entries,
    count(*) AS arrived,
    coalesce(sum(amount) FILTER (WHERE entry_type = 'debit' AND arrival_xid < {watermark}), 0) AS settled_debits,
    coalesce(sum(amount) FILTER (WHERE entry_type = 'credit' AND arrival_xid < {watermark}), 0) AS settled_credits,
    count(*) FILTER (WHERE arrival_xid < {watermark}) AS settled_entries,
    count(*) FILTER (WHERE arrival_xid < {watermark}) AS settled_arrived
FROM entries
GROUP BY account_id, currency;
ANALYZE run_totals;
