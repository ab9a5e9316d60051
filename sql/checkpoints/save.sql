-- The settled totals that differ from the checkpoint become it: the accounts that gained entries
-- since it was written (after a full run, also any row the entries no longer agree with).
INSERT INTO reconciliation_checkpoints (account_id, currency, debits, credits, entries, finest_scale)
SELECT t.account_id, t.currency, t.settled_debits, t.settled_credits, t.settled_entries, t.finest_scale
FROM run_totals t
LEFT JOIN reconciliation_checkpoints c USING (account_id, currency)
WHERE t.settled_entries > 0
  AND (c.account_id IS NULL
       OR (c.debits, c.credits, c.entries, c.finest_scale)
           IS DISTINCT FROM (t.settled_debits, t.settled_credits, t.settled_entries, t.finest_scale))
ON CONFLICT (account_id, currency) DO UPDATE
SET debits = excluded.debits, credits = excluded.credits, entries = excluded.entries,
    finest_scale = excluded.finest_scale;
