-- How many transactions were created in each period's bucket (see period_totals.sql).
SELECT width_bucket(created_at, {bounds}) AS bucket, count(*) AS transactions
FROM transactions
WHERE created_at >= {range_start} AND created_at < {range_end}
GROUP BY 1
