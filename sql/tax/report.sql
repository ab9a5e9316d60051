-- The tax report of one day: per jurisdiction and currency, the taxable base, the VAT and the
-- number of taxed transactions created in [{day_start}, {day_end}) (the view taxed_postings),
-- replacing the day's rows.
DELETE FROM tax_reports WHERE day = {day};
INSERT INTO tax_reports (day, tax_jurisdiction, currency, taxable_base, vat, transactions)
SELECT {day}, tax_jurisdiction, currency, sum(taxable_base), sum(vat), count(DISTINCT transaction_id)
FROM taxed_postings
WHERE created_at >= {day_start} AND created_at < {day_end}
GROUP BY tax_jurisdiction, currency;

SELECT day, tax_jurisdiction, currency, taxable_base, vat, transactions
FROM tax_reports
WHERE day = {day}
ORDER BY tax_jurisdiction, currency;
