-- Every currency with entries in a period has a rate to {reporting_currency} for each day of the
-- period (in {timezone}). Reads run_period_totals (the accounts' currencies), not the entries.
-- One row per period, currency and day without a rate.
WITH used AS MATERIALIZED (
    SELECT DISTINCT w.run_id, p.currency, w.period_start, w.period_end
    FROM run_period_totals p
    JOIN run_windows w ON w.bucket = p.bucket
    WHERE p.currency <> {reporting_currency}
), days AS (
    SELECT u.run_id, u.currency, d::date AS day
    FROM used u
    CROSS JOIN LATERAL generate_series((u.period_start AT TIME ZONE {timezone})::date,
                                       ((u.period_end AT TIME ZONE {timezone}) - interval '1 microsecond')::date,
                                       interval '1 day') d
)
SELECT
    d.run_id,
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    d.currency,
    1::numeric AS expected,
    0::numeric AS actual,
    -1::numeric AS difference,
    jsonb_build_object('day', d.day, 'reporting_currency', {reporting_currency},
                       'problem', 'no rate to the reporting currency for a day with entries') AS details
FROM days d
WHERE day_rate(d.currency, {reporting_currency}, d.day::timestamp AT TIME ZONE {timezone},
               (d.day + 1)::timestamp AT TIME ZONE {timezone}) IS NULL
