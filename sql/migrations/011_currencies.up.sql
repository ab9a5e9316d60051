-- Migration 011: currencies and exchange rates.
--   currencies       ISO 4217 codes with their minor units; accounts and entries reference them
--   exchange_rates   base -> quote rates, exact, as of a moment, from a named source
--   FX_CONVERSION    the transaction code of a currency exchange: two legs, each balanced in its
--                    own currency through a per-currency FX clearing account
--   trial_balances   the reporting-currency trial balance, one row per day and account
-- and the reconciliation checkpoint learns each account's finest amount, so the precision check
-- costs what arrived since the last run.

CREATE TABLE currencies (
    code        char(3) PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    name        text NOT NULL,
    -- Digits after the decimal point (USD 2, JPY 0, KWD 3); NULL where ISO defines none (gold,
    -- SDR). Entries keep 4 (numeric(20, 4)), so no currency may need more.
    minor_units smallint CHECK (minor_units BETWEEN 0 AND 4)
);

-- The ISO 4217 list of 2026-01-01, as the iso4217 package (1.16.20260101) gives it; printed by
-- `uv run python -m ledger_pipeline.currencies` (tests/test_currencies.py compares the two).
INSERT INTO currencies (code, name, minor_units) VALUES
    ('AED', 'UAE Dirham', 2),
    ('AFN', 'Afghani', 2),
    ('ALL', 'Lek', 2),
    ('AMD', 'Armenian Dram', 2),
    ('AOA', 'Kwanza', 2),
    ('ARS', 'Argentine Peso', 2),
    ('AUD', 'Australian Dollar', 2),
    ('AWG', 'Aruban Florin', 2),
    ('AZN', 'Azerbaijan Manat', 2),
    ('BAM', 'Convertible Mark', 2),
    ('BBD', 'Barbados Dollar', 2),
    ('BDT', 'Taka', 2),
    ('BHD', 'Bahraini Dinar', 3),
    ('BIF', 'Burundi Franc', 0),
    ('BMD', 'Bermudian Dollar', 2),
    ('BND', 'Brunei Dollar', 2),
    ('BOB', 'Boliviano', 2),
    ('BOV', 'Mvdol', 2),
    ('BRL', 'Brazilian Real', 2),
    ('BSD', 'Bahamian Dollar', 2),
    ('BTN', 'Ngultrum', 2),
    ('BWP', 'Pula', 2),
    ('BYN', 'Belarusian Ruble', 2),
    ('BZD', 'Belize Dollar', 2),
    ('CAD', 'Canadian Dollar', 2),
    ('CDF', 'Congolese Franc', 2),
    ('CHE', 'WIR Euro', 2),
    ('CHF', 'Swiss Franc', 2),
    ('CHW', 'WIR Franc', 2),
    ('CLF', 'Unidad de Fomento', 4),
    ('CLP', 'Chilean Peso', 0),
    ('CNY', 'Yuan Renminbi', 2),
    ('COP', 'Colombian Peso', 2),
    ('COU', 'Unidad de Valor Real', 2),
    ('CRC', 'Costa Rican Colon', 2),
    ('CUP', 'Cuban Peso', 2),
    ('CVE', 'Cabo Verde Escudo', 2),
    ('CZK', 'Czech Koruna', 2),
    ('DJF', 'Djibouti Franc', 0),
    ('DKK', 'Danish Krone', 2),
    ('DOP', 'Dominican Peso', 2),
    ('DZD', 'Algerian Dinar', 2),
    ('EGP', 'Egyptian Pound', 2),
    ('ERN', 'Nakfa', 2),
    ('ETB', 'Ethiopian Birr', 2),
    ('EUR', 'Euro', 2),
    ('FJD', 'Fiji Dollar', 2),
    ('FKP', 'Falkland Islands Pound', 2),
    ('GBP', 'Pound Sterling', 2),
    ('GEL', 'Lari', 2),
    ('GHS', 'Ghana Cedi', 2),
    ('GIP', 'Gibraltar Pound', 2),
    ('GMD', 'Dalasi', 2),
    ('GNF', 'Guinean Franc', 0),
    ('GTQ', 'Quetzal', 2),
    ('GYD', 'Guyana Dollar', 2),
    ('HKD', 'Hong Kong Dollar', 2),
    ('HNL', 'Lempira', 2),
    ('HTG', 'Gourde', 2),
    ('HUF', 'Forint', 2),
    ('IDR', 'Rupiah', 2),
    ('ILS', 'New Israeli Sheqel', 2),
    ('INR', 'Indian Rupee', 2),
    ('IQD', 'Iraqi Dinar', 3),
    ('IRR', 'Iranian Rial', 2),
    ('ISK', 'Iceland Krona', 0),
    ('JMD', 'Jamaican Dollar', 2),
    ('JOD', 'Jordanian Dinar', 3),
    ('JPY', 'Yen', 0),
    ('KES', 'Kenyan Shilling', 2),
    ('KGS', 'Som', 2),
    ('KHR', 'Riel', 2),
    ('KMF', 'Comorian Franc', 0),
    ('KPW', 'North Korean Won', 2),
    ('KRW', 'Won', 0),
    ('KWD', 'Kuwaiti Dinar', 3),
    ('KYD', 'Cayman Islands Dollar', 2),
    ('KZT', 'Tenge', 2),
    ('LAK', 'Lao Kip', 2),
    ('LBP', 'Lebanese Pound', 2),
    ('LKR', 'Sri Lanka Rupee', 2),
    ('LRD', 'Liberian Dollar', 2),
    ('LSL', 'Loti', 2),
    ('LYD', 'Libyan Dinar', 3),
    ('MAD', 'Moroccan Dirham', 2),
    ('MDL', 'Moldovan Leu', 2),
    ('MGA', 'Malagasy Ariary', 2),
    ('MKD', 'Denar', 2),
    ('MMK', 'Kyat', 2),
    ('MNT', 'Tugrik', 2),
    ('MOP', 'Pataca', 2),
    ('MRU', 'Ouguiya', 2),
    ('MUR', 'Mauritius Rupee', 2),
    ('MVR', 'Rufiyaa', 2),
    ('MWK', 'Malawi Kwacha', 2),
    ('MXN', 'Mexican Peso', 2),
    ('MXV', 'Mexican Unidad de Inversion (UDI)', 2),
    ('MYR', 'Malaysian Ringgit', 2),
    ('MZN', 'Mozambique Metical', 2),
    ('NAD', 'Namibia Dollar', 2),
    ('NGN', 'Naira', 2),
    ('NIO', 'Cordoba Oro', 2),
    ('NOK', 'Norwegian Krone', 2),
    ('NPR', 'Nepalese Rupee', 2),
    ('NZD', 'New Zealand Dollar', 2),
    ('OMR', 'Rial Omani', 3),
    ('PAB', 'Balboa', 2),
    ('PEN', 'Sol', 2),
    ('PGK', 'Kina', 2),
    ('PHP', 'Philippine Peso', 2),
    ('PKR', 'Pakistan Rupee', 2),
    ('PLN', 'Zloty', 2),
    ('PYG', 'Guarani', 0),
    ('QAR', 'Qatari Rial', 2),
    ('RON', 'Romanian Leu', 2),
    ('RSD', 'Serbian Dinar', 2),
    ('RUB', 'Russian Ruble', 2),
    ('RWF', 'Rwanda Franc', 0),
    ('SAR', 'Saudi Riyal', 2),
    ('SBD', 'Solomon Islands Dollar', 2),
    ('SCR', 'Seychelles Rupee', 2),
    ('SDG', 'Sudanese Pound', 2),
    ('SEK', 'Swedish Krona', 2),
    ('SGD', 'Singapore Dollar', 2),
    ('SHP', 'Saint Helena Pound', 2),
    ('SLE', 'Leone', 2),
    ('SOS', 'Somali Shilling', 2),
    ('SRD', 'Surinam Dollar', 2),
    ('SSP', 'South Sudanese Pound', 2),
    ('STN', 'Dobra', 2),
    ('SVC', 'El Salvador Colon', 2),
    ('SYP', 'Syrian Pound', 2),
    ('SZL', 'Lilangeni', 2),
    ('THB', 'Baht', 2),
    ('TJS', 'Somoni', 2),
    ('TMT', 'Turkmenistan New Manat', 2),
    ('TND', 'Tunisian Dinar', 3),
    ('TOP', 'Pa’anga', 2),
    ('TRY', 'Turkish Lira', 2),
    ('TTD', 'Trinidad and Tobago Dollar', 2),
    ('TWD', 'New Taiwan Dollar', 2),
    ('TZS', 'Tanzanian Shilling', 2),
    ('UAH', 'Hryvnia', 2),
    ('UGX', 'Uganda Shilling', 0),
    ('USD', 'US Dollar', 2),
    ('USN', 'US Dollar (Next day)', 2),
    ('UYI', 'Uruguay Peso en Unidades Indexadas (UI)', 0),
    ('UYU', 'Peso Uruguayo', 2),
    ('UYW', 'Unidad Previsional', 4),
    ('UZS', 'Uzbekistan Sum', 2),
    ('VED', 'Bolívar Soberano', 2),
    ('VES', 'Bolívar Soberano', 2),
    ('VND', 'Dong', 0),
    ('VUV', 'Vatu', 0),
    ('WST', 'Tala', 2),
    ('XAD', 'Arab Accounting Dinar', 2),
    ('XAF', 'CFA Franc BEAC', 0),
    ('XAG', 'Silver', NULL),
    ('XAU', 'Gold', NULL),
    ('XBA', 'Bond Markets Unit European Composite Unit (EURCO)', NULL),
    ('XBB', 'Bond Markets Unit European Monetary Unit (E.M.U.-6)', NULL),
    ('XBC', 'Bond Markets Unit European Unit of Account 9 (E.U.A.-9)', NULL),
    ('XBD', 'Bond Markets Unit European Unit of Account 17 (E.U.A.-17)', NULL),
    ('XCD', 'East Caribbean Dollar', 2),
    ('XCG', 'Caribbean Guilder', 2),
    ('XDR', 'SDR (Special Drawing Right)', NULL),
    ('XOF', 'CFA Franc BCEAO', 0),
    ('XPD', 'Palladium', NULL),
    ('XPF', 'CFP Franc', 0),
    ('XPT', 'Platinum', NULL),
    ('XSU', 'Sucre', NULL),
    ('XTS', 'Codes specifically reserved for testing purposes', NULL),
    ('XUA', 'ADB Unit of Account', NULL),
    ('XXX', 'The codes assigned for transactions where no currency is involved', NULL),
    ('YER', 'Yemeni Rial', 2),
    ('ZAR', 'Rand', 2),
    ('ZMW', 'Zambian Kwacha', 2),
    ('ZWG', 'Zimbabwe Gold', 2);

DO $$
DECLARE
    unknown text;
BEGIN
    SELECT string_agg(DISTINCT c, ', ') INTO unknown
    FROM (SELECT currency FROM accounts UNION SELECT currency FROM entries) AS used (c)
    WHERE c NOT IN (SELECT code FROM currencies);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'accounts or entries use currencies that are not ISO 4217 codes: %', unknown
            USING HINT = 'correct those rows, or add the codes to currencies in this migration';
    END IF;
END
$$;

-- NOT VALID, then VALIDATE: the scan of entries takes a lock that lets postings go on.
ALTER TABLE accounts ADD CONSTRAINT accounts_currency_fkey
    FOREIGN KEY (currency) REFERENCES currencies (code) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_currency_fkey;
ALTER TABLE entries ADD CONSTRAINT entries_currency_fkey
    FOREIGN KEY (currency) REFERENCES currencies (code) NOT VALID;
ALTER TABLE entries VALIDATE CONSTRAINT entries_currency_fkey;

CREATE TABLE exchange_rates (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base      char(3) NOT NULL REFERENCES currencies (code),
    quote     char(3) NOT NULL REFERENCES currencies (code),
    rate      numeric NOT NULL CHECK (rate > 0),  -- one base buys `rate` quote, exactly
    as_of     timestamptz NOT NULL CHECK (isfinite(as_of)),
    source    text NOT NULL CHECK (source <> ''),
    loaded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (base <> quote),
    UNIQUE (base, quote, as_of, source)
);

-- The rate of a day: the latest one published in [p_day_start, p_day_end), from any source, taken
-- directly or as the inverse of the opposite rate; 1 from a currency to itself; NULL if the day
-- has none. Shared by the checks and the trial balance so they never disagree on a day's rate.
CREATE FUNCTION day_rate(p_base char(3), p_quote char(3), p_day_start timestamptz, p_day_end timestamptz)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN p_base = p_quote THEN 1::numeric ELSE (
        SELECT rate FROM (
            SELECT rate, as_of FROM exchange_rates
            WHERE base = p_base AND quote = p_quote AND as_of >= p_day_start AND as_of < p_day_end
            UNION ALL
            SELECT 1 / rate, as_of FROM exchange_rates
            WHERE base = p_quote AND quote = p_base AND as_of >= p_day_start AND as_of < p_day_end
        ) r
        ORDER BY as_of DESC, rate
        LIMIT 1
    ) END
$$;

INSERT INTO transaction_codes (code, description) VALUES
    ('FX_CONVERSION', 'Currency exchange: two legs through the FX clearing accounts');

-- Conversions (and later taxed postings) are found by code, a day or the whole ledger at a time.
CREATE INDEX idx_transactions_code_created ON transactions (transaction_code, created_at);

-- Each conversion as recorded (its metadata) beside what its legs moved. A leg's amount is what
-- it debits in its currency: each leg balances in its own currency (transactions_balanced sees to
-- that), so its debits are its size whichever accounts it runs through. security_invoker: the
-- reader's row-level security applies, as on the tables.
CREATE VIEW fx_conversions WITH (security_invoker = true) AS
SELECT
    t.id AS transaction_id,
    t.created_at,
    t.metadata -> 'fx' ->> 'from_currency' AS from_currency,
    (t.metadata -> 'fx' ->> 'from_amount')::numeric AS from_amount,
    t.metadata -> 'fx' ->> 'to_currency' AS to_currency,
    (t.metadata -> 'fx' ->> 'rate')::numeric AS rate,
    t.metadata -> 'fx' ->> 'rate_source' AS rate_source,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit' AND a.currency = t.metadata -> 'fx' ->> 'from_currency'), 0)
        AS from_leg,
    coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit' AND a.currency = t.metadata -> 'fx' ->> 'to_currency'), 0)
        AS to_leg
FROM transactions t
JOIN entries e ON e.transaction_id = t.id
JOIN accounts a ON a.id = e.account_id
WHERE t.transaction_code = 'FX_CONVERSION'
GROUP BY t.id, t.created_at;  -- created_at too, so a range on it reaches the index

-- The finest scale of any amount per account and currency (min_scale: 10.50 -> 1). Checkpoints
-- written before knew nothing of it, so they are dropped: the next run reads every entry once.
DELETE FROM reconciliation_checkpoints;
DELETE FROM reconciliation_watermark;
ALTER TABLE reconciliation_checkpoints ADD COLUMN finest_scale integer NOT NULL DEFAULT 0;

-- A report derived from the ledger and rewritten a day at a time: no foreign keys, whose checks
-- would cost three lookups per account and day (measured: half the asset's time).
CREATE TABLE trial_balances (
    day                date NOT NULL,
    account_id         uuid NOT NULL,
    account_code       text NOT NULL,
    account_type       text NOT NULL,
    currency           char(3) NOT NULL,
    balance            numeric NOT NULL,  -- as of the day's end, in the account's normal sign
    reporting_currency char(3) NOT NULL,
    rate               numeric,           -- the day's rate; NULL: none (exchange_rates_available)
    reporting_balance  numeric,           -- balance * rate, rounded to the reporting currency
    computed_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, account_id)
);

GRANT SELECT ON currencies, exchange_rates, fx_conversions TO ledger_app, ledger_system;
GRANT INSERT ON exchange_rates TO ledger_system;
GRANT SELECT, INSERT, DELETE ON trial_balances TO ledger_system;
GRANT EXECUTE ON FUNCTION day_rate(char, char, timestamptz, timestamptz) TO ledger_app, ledger_system;
