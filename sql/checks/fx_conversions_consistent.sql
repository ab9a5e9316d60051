-- Every conversion (FX_CONVERSION) created in a run's period agrees with itself and with the day's rate:
--   its to leg is its from leg times its recorded rate, at the quote currency's minor unit;
--   its from leg is the amount recorded in its metadata;
--   its recorded rate is within {tolerance} (a fraction) of the day's rate in exchange_rates
--   (day_rate: the latest rate of its day in {timezone}), and the day has one.
-- One row per problem of an offending conversion; conversions are found by code (an index).
-- {bucket_runs} holds the run of each span between two {bounds} (NULL for a gap between
-- periods); a whole-ledger run is one period from -infinity to infinity.
WITH conversions AS (
    SELECT v.*, cur.minor_units, d.day,
           day_rate(v.from_currency, v.to_currency, d.day::timestamp AT TIME ZONE {timezone},
                    (d.day + 1)::timestamp AT TIME ZONE {timezone}) AS day_rate
    FROM fx_conversions v
    LEFT JOIN currencies cur ON cur.code = v.to_currency
    CROSS JOIN LATERAL (SELECT (v.created_at AT TIME ZONE {timezone})::date AS day) d
    WHERE v.created_at >= {range_start} AND v.created_at < {range_end}
)
SELECT
    w.run_id,
    NULL::uuid AS account_id,
    c.transaction_id,
    p.currency,
    p.expected,
    p.actual,
    p.actual - p.expected AS difference,
    jsonb_build_object(
        'problem', p.problem,
        'from_currency', c.from_currency,
        'from_amount', c.from_amount,
        'to_currency', c.to_currency,
        'rate', c.rate,
        'rate_source', c.rate_source,
        'from_leg', c.from_leg,
        'to_leg', c.to_leg,
        'day', c.day,
        'day_rate', c.day_rate,
        'tolerance', {tolerance}::numeric
    ) AS details
FROM conversions c
CROSS JOIN LATERAL (SELECT ({bucket_runs}::uuid[])[width_bucket(c.created_at, {bounds}::timestamptz[])] AS run_id) w
CROSS JOIN LATERAL (VALUES
    ('the to leg is not the from leg at the recorded rate', c.to_currency,
     round(c.from_leg * c.rate, coalesce(c.minor_units, 4)), c.to_leg),
    ('the from leg is not the recorded amount', c.from_currency, c.from_amount, c.from_leg),
    (CASE WHEN c.day_rate IS NULL THEN 'no rate in exchange_rates for the day'
          ELSE 'the recorded rate strays from the day''s rate beyond the tolerance' END, c.to_currency,
     c.day_rate, CASE WHEN abs(c.rate / c.day_rate - 1) <= {tolerance}::numeric THEN c.day_rate ELSE c.rate END)
) AS p (problem, currency, expected, actual)
WHERE w.run_id IS NOT NULL AND p.expected IS DISTINCT FROM p.actual
