-- transactions_balanced's unbalanced (transaction, currency) pairs among the transactions created
-- in the periods' range. The last full run ({full_run}) judged every transaction whose entries
-- had all arrived below its watermark ({full_watermark}), and entries are appended, never changed
-- in place: such a transaction is unbalanced now exactly when that run found it so. Only those,
-- and the transactions with an entry that arrived since, are summed again, through the indexes,
-- so the cost follows the arrivals rather than the range. (With no full run yet, the watermark is
-- 0 and every transaction is summed.)
WITH judged AS (
    SELECT transaction_id
    FROM reconciliation_items
    WHERE run_id = {full_run} AND check_name = 'transactions_balanced'
    UNION
    SELECT transaction_id
    FROM entries
    WHERE arrival_xid >= {full_watermark}
)
SELECT e.transaction_id, a.currency
FROM judged j
JOIN transactions t ON t.id = j.transaction_id
JOIN entries e ON e.transaction_id = t.id
JOIN accounts a ON a.id = e.account_id
WHERE t.created_at >= {range_start} AND t.created_at < {range_end}
GROUP BY e.transaction_id, a.currency
HAVING sum(CASE WHEN e.entry_type = 'debit' THEN e.amount ELSE -e.amount END) <> 0
