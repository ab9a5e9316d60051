-- Migration 012: tax metadata and the per-jurisdiction tax report.
-- A transaction code with a jurisdiction and a VAT rate is taxed: its postings carry a VAT leg,
-- credited to the jurisdiction's VAT payable account in the posting's currency (account code
-- VAT-PAYABLE-<jurisdiction>-<currency>), equal to the taxable base (what the other accounts are
-- credited) times the rate, rounded to the currency's minor unit.

ALTER TABLE transaction_codes
    ADD COLUMN tax_jurisdiction text CHECK (tax_jurisdiction ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'),
    ADD COLUMN vat_rate numeric(7, 6) CHECK (vat_rate >= 0 AND vat_rate < 1),
    ADD CONSTRAINT transaction_codes_tax_complete CHECK ((tax_jurisdiction IS NULL) = (vat_rate IS NULL));

INSERT INTO transaction_codes (code, description, tax_jurisdiction, vat_rate) VALUES
    ('FEE_VAT_DE', 'Fee charged to a wallet, with German VAT', 'DE', 0.19),
    ('FEE_VAT_FR', 'Fee charged to a wallet, with French VAT', 'FR', 0.20),
    ('FEE_VAT_GB', 'Fee charged to a wallet, with UK VAT', 'GB', 0.20);

CREATE TABLE tax_reports (
    day              date NOT NULL,
    tax_jurisdiction text NOT NULL,
    currency         char(3) NOT NULL REFERENCES currencies (code),
    taxable_base     numeric NOT NULL,
    vat              numeric NOT NULL,
    transactions     bigint NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, tax_jurisdiction, currency)
);

GRANT SELECT, INSERT, DELETE ON tax_reports TO ledger_system;
