DROP TABLE tax_reports;
DROP VIEW taxed_postings;
DELETE FROM transaction_codes WHERE code IN ('FEE_VAT_DE', 'FEE_VAT_FR', 'FEE_VAT_GB');
ALTER TABLE transaction_codes
    DROP CONSTRAINT transaction_codes_tax_complete,
    DROP COLUMN vat_rate,
    DROP COLUMN tax_jurisdiction;
