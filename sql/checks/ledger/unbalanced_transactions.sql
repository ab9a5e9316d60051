-- transactions_balanced's unbalanced (transaction, currency) pairs, over the whole ledger. The
-- one check a full run cannot answer from per-account totals: it groups every entry by
-- transaction, once, keeping a single signed sum per group (half the state of separate debit and
-- credit sums).
SELECT e.transaction_id, a.currency
FROM entries e
JOIN accounts a ON a.id = e.account_id
GROUP BY e.transaction_id, a.currency
HAVING sum(CASE WHEN e.entry_type = 'debit' THEN e.amount ELSE -e.amount END) <> 0
