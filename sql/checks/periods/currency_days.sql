-- exchange_rates_available's days for period runs: every day (in {timezone}) of each period, for
-- each currency other than {reporting_currency} of the accounts the period's entries touched.
-- Reads run_period_totals, not the entries.
WITH used AS MATERIALIZED (
    SELECT DISTINCT w.run_id, p.currency, w.period_start, w.period_end
    FROM run_period_totals p
    JOIN run_windows w ON w.bucket = p.bucket
    WHERE p.currency <> {reporting_currency}
)
SELECT u.run_id, u.currency, d::date AS day
FROM used u
CROSS JOIN LATERAL generate_series((u.period_start AT TIME ZONE {timezone})::date,
                                   ((u.period_end AT TIME ZONE {timezone}) - interval '1 microsecond')::date,
                                   interval '1 day') d
