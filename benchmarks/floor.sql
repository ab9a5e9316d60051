-- The floor: the four answers of a full reconciliation (sql/checks/*.sql), computed as fast as
-- plain SQL can, with nothing recorded and no details. benchmarks/suite.py times it beside the
-- engine, with the same session settings on both (work_mem: see --work-mem there).
--
-- One row per finding, in the engine's terms (reconciliation_items):
--   debits_equal_credits             every currency: expected = its debits, actual = its credits
--   liability_balances_non_negative  a liability account whose credits - debits < 0
--   stored_balances_match_entries    an account whose stored balance <> the sum of its entries
--   transactions_balanced            a (transaction, currency) whose debits <> credits
-- Currencies are the accounts' own, never the entries' labels.
--
-- Why it is shaped so:
-- - Three checks need only per-account sums: one parallel scan of entries grouped by account
--   (few groups, so each worker's partial aggregate is small), then everything else runs over
--   one row per account.
-- - transactions_balanced needs a grouping by transaction, the one large grouping. It keeps a
--   single signed sum per group, half the state of separate debit and credit sums; only the
--   unbalanced pairs, normally none, have their debits and credits summed again afterwards.
WITH per_account AS MATERIALIZED (
    SELECT account_id,
           coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0) AS debits,
           coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0) AS credits
    FROM entries
    GROUP BY account_id
), balances AS MATERIALIZED (
    SELECT a.id, a.account_type, a.currency, a.balance, p.account_id IS NOT NULL AS has_entries,
           coalesce(p.debits, 0) AS debits,
           coalesce(p.credits, 0) AS credits,
           -- balance_delta() in the account's normal sign
           CASE WHEN a.account_type IN ('asset', 'expense') THEN coalesce(p.debits, 0) - coalesce(p.credits, 0)
                ELSE coalesce(p.credits, 0) - coalesce(p.debits, 0) END AS computed
    FROM accounts a
    LEFT JOIN per_account p ON p.account_id = a.id
), unbalanced AS MATERIALIZED (
    SELECT e.transaction_id, a.currency
    FROM entries e
    JOIN accounts a ON a.id = e.account_id
    GROUP BY e.transaction_id, a.currency
    HAVING sum(CASE WHEN e.entry_type = 'debit' THEN e.amount ELSE -e.amount END) <> 0
)
SELECT 'debits_equal_credits' AS check_name, NULL::uuid AS account_id, NULL::uuid AS transaction_id,
       currency, sum(debits) AS expected, sum(credits) AS actual
FROM balances
WHERE has_entries
GROUP BY currency
UNION ALL
SELECT 'liability_balances_non_negative', id, NULL, currency, 0, computed
FROM balances
WHERE account_type = 'liability' AND computed < 0
UNION ALL
SELECT 'stored_balances_match_entries', id, NULL, currency, computed, balance
FROM balances
WHERE balance <> computed
UNION ALL
SELECT 'transactions_balanced', NULL, u.transaction_id, u.currency,
       coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0),
       coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0)
FROM unbalanced u
JOIN entries e ON e.transaction_id = u.transaction_id
JOIN accounts a ON a.id = e.account_id AND a.currency = u.currency
GROUP BY u.transaction_id, u.currency
