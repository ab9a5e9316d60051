-- Each account's stored balance equals the balance computed from its entries, in the account's
-- normal sign; every account, including those without entries. One row per drifting account:
-- expected = computed, actual = stored. Reads the run's per-account totals.
WITH sums AS (
    SELECT account_id, sum(debits) AS debits, sum(credits) AS credits
    FROM run_totals
    GROUP BY account_id
), balances AS (
    SELECT
        a.*,
        balance_delta(a.account_type, 'debit', coalesce(s.debits, 0))
            + balance_delta(a.account_type, 'credit', coalesce(s.credits, 0)) AS computed
    FROM accounts a
    LEFT JOIN sums s ON s.account_id = a.id
)
SELECT
    {run_id} AS run_id,
    b.id AS account_id,
    NULL::uuid AS transaction_id,
    b.currency,
    b.computed AS expected,
    b.balance AS actual,
    b.balance - b.computed AS difference,
    jsonb_build_object(
        'account_code', b.code,
        'account_name', b.name,
        'account_type', b.account_type,
        'owner', b.user_id,
        'stored_balance', b.balance,
        'computed_balance', b.computed,
        'moved_since_period_end', 0,
        'as_of', 'infinity'::timestamptz
    ) AS details
FROM balances b
WHERE b.balance <> b.computed
