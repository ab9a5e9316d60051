-- Every balance in the hot-balance cache equals the account's stored balance. cached_balances
-- holds what the engine read from the cache (key, account, balance, version) before the run's
-- snapshot was taken, so the ledger read here is never older than a cached value: a difference
-- is a cache left stale (or holding a key for no account), unless the engine, reading the key
-- again, finds the posting's invalidation has landed since (engine.withdraw_settled). One row per
-- such key: expected = the ledger's balance, actual = the cached one.
SELECT
    {run_id} AS run_id,
    c.account_id,
    NULL::uuid AS transaction_id,
    a.currency,
    a.balance AS expected,
    c.balance AS actual,
    c.balance - a.balance AS difference,
    jsonb_build_object(
        'key', c.key,
        'cached_balance', c.balance,
        'ledger_balance', a.balance,
        'cached_version', c.version,
        'account_code', a.code
    ) AS details
FROM cached_balances c
LEFT JOIN accounts a ON a.id = c.account_id
WHERE a.balance IS DISTINCT FROM c.balance
