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

-- Each taxed posting per currency (the accounts'): its taxable base, what went to the VAT payable
-- account, and what the code's rate makes of the base at the currency's minor unit.
CREATE VIEW taxed_postings WITH (security_invoker = true) AS
SELECT
    t.id AS transaction_id,
    t.created_at,
    t.transaction_code,
    c.tax_jurisdiction,
    c.vat_rate,
    a.currency,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit' AND a.code <> vat.code), 0) AS taxable_base,
    coalesce(sum(CASE WHEN e.entry_type = 'credit' THEN e.amount ELSE -e.amount END)
                 FILTER (WHERE a.code = vat.code), 0) AS vat,
    round(coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit' AND a.code <> vat.code), 0) * c.vat_rate,
          coalesce(min(cur.minor_units), 4)) AS expected_vat
FROM transactions t
JOIN transaction_codes c ON c.code = t.transaction_code AND c.vat_rate IS NOT NULL
JOIN entries e ON e.transaction_id = t.id
JOIN accounts a ON a.id = e.account_id
JOIN currencies cur ON cur.code = a.currency
CROSS JOIN LATERAL (SELECT 'VAT-PAYABLE-' || c.tax_jurisdiction || '-' || a.currency AS code) vat
GROUP BY t.id, t.created_at, c.code, a.currency;  -- created_at too, so a range on it reaches the index

CREATE TABLE tax_reports (
    day              date NOT NULL,
    tax_jurisdiction text NOT NULL,
    currency         char(3) NOT NULL,
    taxable_base     numeric NOT NULL,
    vat              numeric NOT NULL,
    transactions     bigint NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, tax_jurisdiction, currency)
);

GRANT SELECT, INSERT, DELETE ON tax_reports TO ledger_system;
GRANT SELECT ON taxed_postings TO ledger_app, ledger_system;
