-- Every account's totals per entry currency, read from every entry once: the full run's pass over
-- entries, and the ground truth the checkpoint is rebuilt from. The settled_ columns leave out the
-- entries at or above the new watermark (those of transactions that were open, or had just
-- committed, when the run's snapshot was taken: few, found through idx_entries_arrival); the
-- settled part becomes the next checkpoint. finest_scale is the finest amount's scale (min_scale:
-- 10.50 -> 1), which amounts_within_currency_precision compares with the currency's minor units.
WITH every_entry AS (
    SELECT
        {totals},
        max(min_scale(amount)) AS finest_scale
    FROM entries
    GROUP BY account_id, currency
), unsettled AS (
    SELECT {totals}
    FROM entries
    WHERE arrival_xid >= {watermark}
    GROUP BY account_id, currency
)
SELECT
    account_id,
    currency,
    e.debits,
    e.credits,
    e.entries,
    e.entries AS arrived,
    e.debits - coalesce(u.debits, 0) AS settled_debits,
    e.credits - coalesce(u.credits, 0) AS settled_credits,
    e.entries - coalesce(u.entries, 0) AS settled_entries,
    -- Kept whole in the checkpoint: an amount finer than its currency allows stays a finding
    -- wherever it arrived, so the settled part need not leave the unsettled entries out.
    e.finest_scale
FROM every_entry e
LEFT JOIN unsettled u USING (account_id, currency)
