-- Each account's stored balance equals the balance computed from its entries, in the account's
-- normal sign. One row per drifting account: expected = computed, actual = stored.
-- Stored balances exist only as of now, so the stored balance at the window's end is the stored
-- balance less what the entries since then moved it. A period run checks the accounts its window
-- touched; the daily full run checks every account, including those without entries.
-- The literals are constants: PostgreSQL drops the in_scope branch whose WHERE is false.
WITH in_scope AS (
    SELECT a.*
    FROM accounts a
    WHERE {period_start} = '-infinity'::timestamptz
    UNION ALL
    SELECT a.*
    FROM accounts a
    WHERE {period_start} <> '-infinity'::timestamptz
      AND a.id IN (SELECT account_id FROM entries
                   WHERE created_at >= {period_start} AND created_at < {period_end})
), sums AS (
    SELECT
        e.account_id,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit' AND e.created_at < {period_end}), 0) AS debits,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit' AND e.created_at < {period_end}), 0) AS credits,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit' AND e.created_at >= {period_end}), 0) AS later_debits,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit' AND e.created_at >= {period_end}), 0) AS later_credits
    FROM entries e
    WHERE e.account_id IN (SELECT id FROM in_scope)
    GROUP BY e.account_id
), balances AS (
    SELECT
        a.*,
        balance_delta(a.account_type, 'debit', coalesce(s.debits, 0))
            + balance_delta(a.account_type, 'credit', coalesce(s.credits, 0)) AS computed,
        balance_delta(a.account_type, 'debit', coalesce(s.later_debits, 0))
            + balance_delta(a.account_type, 'credit', coalesce(s.later_credits, 0)) AS moved_since
    FROM in_scope a
    LEFT JOIN sums s ON s.account_id = a.id
)
SELECT
    b.id AS account_id,
    NULL::uuid AS transaction_id,
    b.currency,
    b.computed AS expected,
    b.balance - b.moved_since AS actual,
    b.balance - b.moved_since - b.computed AS difference,
    jsonb_build_object(
        'account_code', b.code,
        'account_name', b.name,
        'account_type', b.account_type,
        'owner', b.user_id,
        'stored_balance', b.balance,
        'computed_balance', b.computed,
        'moved_since_period_end', b.moved_since,
        'as_of', {period_end}
    ) AS details
FROM balances b
WHERE b.balance - b.moved_since <> b.computed
