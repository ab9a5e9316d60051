-- How much each period run covers: the accounts its entries touched, the transactions created in it.
SELECT
    w.run_id,
    coalesce(a.accounts, 0) AS accounts_checked,
    coalesce(c.transactions, 0) AS transactions_checked
FROM run_windows w
LEFT JOIN (
    SELECT bucket, count(*) AS accounts FROM run_period_totals GROUP BY bucket
) a ON a.bucket = w.bucket
LEFT JOIN (
    SELECT width_bucket(created_at, {bounds}) AS bucket, count(*) AS transactions
    FROM transactions
    WHERE created_at >= {range_start} AND created_at < {range_end}
    GROUP BY 1
) c ON c.bucket = w.bucket
