-- Each account a period's entries touched has a stored balance equal to its balance computed
-- from its entries, as of the period's end. Stored balances exist only as of now, so both sides
-- are taken back to the period's end by what the entries after it moved: the difference is the
-- stored balance less the total of every entry, whatever the period, and only the few drifting
-- accounts need their history. A whole-ledger run is one period that ends at infinity and lists
-- every account, so it judges those without entries too. One row per drifting account and run:
-- expected = computed, actual = stored.
WITH drift AS (
    SELECT
        a.*,
        balance_delta(a.account_type, 'debit', coalesce(sum(t.debits), 0))
            + balance_delta(a.account_type, 'credit', coalesce(sum(t.credits), 0)) AS computed_now
    FROM accounts a
    LEFT JOIN run_totals t ON t.account_id = a.id
    GROUP BY a.id
    HAVING a.balance <> balance_delta(a.account_type, 'debit', coalesce(sum(t.debits), 0))
                         + balance_delta(a.account_type, 'credit', coalesce(sum(t.credits), 0))
), moved AS (
    SELECT
        p.account_id,
        p.bucket,
        coalesce(sum(balance_delta(d.account_type, 'debit', p.debits) + balance_delta(d.account_type, 'credit', p.credits))
                 OVER (PARTITION BY p.account_id ORDER BY p.bucket DESC
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS moved_after
    FROM run_period_totals p
    JOIN drift d ON d.id = p.account_id
)
SELECT
    w.run_id,
    d.id AS account_id,
    NULL::uuid AS transaction_id,
    d.currency,
    d.computed_now - m.moved_after AS expected,
    d.balance - m.moved_after AS actual,
    d.balance - d.computed_now AS difference,
    jsonb_build_object(
        'account_code', d.code,
        'account_name', d.name,
        'account_type', d.account_type,
        'owner', d.user_id,
        'stored_balance', d.balance,
        'computed_balance', d.computed_now - m.moved_after,
        'moved_since_period_end', m.moved_after,
        'as_of', w.period_end
    ) AS details
FROM drift d
JOIN moved m ON m.account_id = d.id
JOIN run_windows w ON w.bucket = m.bucket
