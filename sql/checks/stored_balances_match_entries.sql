-- Each account a period's entries touched has a stored balance equal to its balance computed
-- from its entries, as of the period's end. Stored balances exist only as of now, so both sides
-- are taken back to the period's end by what the entries after it moved: the difference is the
-- stored balance less the total of every entry, whatever the period, and only the few drifting
-- accounts need their history. A whole-ledger run is one period that ends at infinity, now: it
-- judges every account, those without entries too. One row per drifting account and run:
-- expected = computed, actual = stored.
WITH sums AS (
    SELECT account_id, sum(debits) AS debits, sum(credits) AS credits
    FROM run_totals
    GROUP BY account_id
), drift AS (
    SELECT *
    FROM (SELECT
              a.*,
              balance_delta(a.account_type, 'debit', coalesce(s.debits, 0))
                  + balance_delta(a.account_type, 'credit', coalesce(s.credits, 0)) AS computed_now
          FROM accounts a
          LEFT JOIN sums s ON s.account_id = a.id) b
    WHERE b.balance <> b.computed_now
), moved AS (
    SELECT
        p.account_id,
        p.bucket,
        coalesce(sum(sum(balance_delta(d.account_type, 'debit', p.debits) + balance_delta(d.account_type, 'credit', p.credits)))
                 OVER (PARTITION BY p.account_id ORDER BY p.bucket DESC
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS moved_after
    FROM run_period_totals p
    JOIN drift d ON d.id = p.account_id
    GROUP BY p.account_id, p.bucket, d.account_type  -- a whole-ledger run has a row per entry currency
    UNION ALL
    -- An account without entries is in no bucket: the run whose period reaches now, where stored
    -- balances are (a whole-ledger run), judges it.
    SELECT d.id, w.bucket, 0
    FROM drift d
    JOIN run_windows w ON w.period_end = 'infinity'
    WHERE NOT EXISTS (SELECT FROM run_totals t WHERE t.account_id = d.id)
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
