-- Every currency with entries on a day (in {timezone}) has a rate to {reporting_currency} for
-- that day (day_rate: direct or inverse, published during the day). One row per currency and
-- day without one. The currency is the entries' own label (no join: this reads every entry once,
-- with a few distinct days per currency; a mislabelled entry trips transactions_balanced).
-- MATERIALIZED: otherwise the planner pushes the rate lookup below the DISTINCT, once per entry.
WITH days AS MATERIALIZED (
    SELECT DISTINCT currency, (created_at AT TIME ZONE {timezone})::date AS day
    FROM entries
    WHERE currency <> {reporting_currency}
)
SELECT
    {run_id} AS run_id,
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    d.currency,
    1::numeric AS expected,  -- a rate
    0::numeric AS actual,    -- none
    -1::numeric AS difference,
    jsonb_build_object('day', d.day, 'reporting_currency', {reporting_currency},
                       'problem', 'no rate to the reporting currency for a day with entries') AS details
FROM days d
WHERE day_rate(d.currency, {reporting_currency}, d.day::timestamp AT TIME ZONE {timezone},
               (d.day + 1)::timestamp AT TIME ZONE {timezone}) IS NULL
