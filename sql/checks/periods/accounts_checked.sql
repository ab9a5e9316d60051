-- How many accounts each period run covers: those its entries touched.
SELECT w.run_id, coalesce(a.accounts, 0) AS accounts_checked
FROM run_windows w
LEFT JOIN (SELECT bucket, count(*) AS accounts FROM run_period_totals GROUP BY bucket) a ON a.bucket = w.bucket
