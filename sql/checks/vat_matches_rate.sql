-- Every taxed transaction (its code has a VAT rate) created in a run's period credits its
-- jurisdiction's VAT payable account its taxable base times the code's rate, rounded to the
-- currency's minor unit (the view taxed_postings, migration 012). One row per offending
-- transaction and currency: expected = that VAT, actual = what the VAT leg moved.
-- {bucket_runs} holds the run of each span between two {bounds} (NULL for a gap between
-- periods); a whole-ledger run is one period from -infinity to infinity.
SELECT
    w.run_id,
    NULL::uuid AS account_id,
    p.transaction_id,
    p.currency,
    p.expected_vat AS expected,
    p.vat AS actual,
    p.vat - p.expected_vat AS difference,
    jsonb_build_object(
        'transaction_code', p.transaction_code,
        'tax_jurisdiction', p.tax_jurisdiction,
        'vat_rate', p.vat_rate,
        'taxable_base', p.taxable_base,
        'vat', p.vat,
        'expected_vat', p.expected_vat,
        'created_at', p.created_at
    ) AS details
FROM taxed_postings p
CROSS JOIN LATERAL (SELECT ({bucket_runs}::uuid[])[width_bucket(p.created_at, {bounds}::timestamptz[])] AS run_id) w
WHERE w.run_id IS NOT NULL AND p.vat IS DISTINCT FROM p.expected_vat
  AND p.created_at >= {range_start} AND p.created_at < {range_end}
