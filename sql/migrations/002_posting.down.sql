DROP FUNCTION IF EXISTS post_transaction(text, jsonb, text, uuid, jsonb, timestamptz);
DELETE FROM transaction_codes WHERE code IN ('DEPOSIT', 'WITHDRAW', 'TRANSFER', 'FEE', 'ADJUST');
DROP FUNCTION IF EXISTS balance_delta(text, text, numeric);
