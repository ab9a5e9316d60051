-- Every transaction created in the window has, per currency, debits equal to credits.
-- One row per offending transaction and currency.
SELECT
    NULL::uuid AS account_id,
    b.transaction_id,
    b.currency,
    b.debits AS expected,
    b.credits AS actual,
    b.credits - b.debits AS difference,
    jsonb_build_object(
        'transaction_code', t.transaction_code,
        'initiated_by', t.initiated_by,
        'description', t.description,
        'created_at', t.created_at,
        'debits', b.debits,
        'credits', b.credits,
        'entries', b.entries
    ) AS details
FROM (
    SELECT
        e.transaction_id,
        e.currency,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0) AS debits,
        coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0) AS credits,
        count(*) AS entries
    FROM entries e
    -- A full run reads every entry once; a period run only those of the window's transactions.
    -- (The literals are constants, so the planner keeps just one side of the OR.)
    WHERE ({period_start} = '-infinity'::timestamptz AND {period_end} = 'infinity'::timestamptz)
       OR e.transaction_id IN (SELECT id FROM transactions
                               WHERE created_at >= {period_start} AND created_at < {period_end})
    GROUP BY e.transaction_id, e.currency
    HAVING coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0)
        <> coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0)
) b
JOIN transactions t ON t.id = b.transaction_id
