DROP TABLE trial_balances;
ALTER TABLE reconciliation_checkpoints DROP COLUMN finest_scale;
DROP INDEX idx_transactions_code_created;
DELETE FROM transaction_codes WHERE code = 'FX_CONVERSION';
DROP FUNCTION day_rate(char, char, timestamptz, timestamptz);
DROP TABLE exchange_rates;
ALTER TABLE entries DROP CONSTRAINT entries_currency_fkey;
ALTER TABLE accounts DROP CONSTRAINT accounts_currency_fkey;
DROP TABLE currencies;
