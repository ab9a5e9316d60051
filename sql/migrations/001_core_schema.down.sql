DROP TABLE IF EXISTS entries;
DROP TABLE IF EXISTS transactions;
DROP TABLE IF EXISTS transaction_codes;
DROP TABLE IF EXISTS accounts;
