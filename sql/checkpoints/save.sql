-- The settled totals of the accounts that changed become their checkpoint. A full run deletes the
-- old checkpoint first, so every row is rewritten from the entries themselves.
INSERT INTO reconciliation_checkpoints (account_id, currency, debits, credits, entries)
SELECT account_id, currency, settled_debits, settled_credits, settled_entries
FROM run_totals
WHERE settled_arrived > 0
ON CONFLICT (account_id, currency) DO UPDATE
SET debits = excluded.debits, credits = excluded.credits, entries = excluded.entries;
