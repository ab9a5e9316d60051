-- exchange_rates_available's days over the whole ledger: each currency other than
-- {reporting_currency} on each day (in {timezone}) it has entries. The currency is the entries'
-- own label (no join: this reads every entry once, with a few distinct days per currency; a
-- mislabelled entry trips transactions_balanced).
SELECT {run_id}::uuid AS run_id, currency, day
FROM (SELECT DISTINCT currency, (created_at AT TIME ZONE {timezone})::date AS day
      FROM entries
      WHERE currency <> {reporting_currency}) d
