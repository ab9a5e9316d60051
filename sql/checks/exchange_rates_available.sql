-- Every currency with entries has a rate to {reporting_currency} for each day it is judged on
-- (in {timezone}; day_rate: direct or inverse, published during the day). The days to judge,
-- (run_id, currency, day), come from currency_days.sql, as each kind of run can find them:
-- ledger/ the days with entries, read from every entry; periods/ every day of each period, for
-- the currencies of the accounts its entries touched. One row per run, currency and day without
-- a rate.
-- MATERIALIZED: otherwise the planner pushes the rate lookup below the DISTINCT, once per entry.
WITH days AS MATERIALIZED (
    {days}
)
SELECT
    d.run_id,
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
