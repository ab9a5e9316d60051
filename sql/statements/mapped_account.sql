-- The ledger account an identifier and currency are mapped to now, locked until the mapping is
-- written.
SELECT a.code
FROM bank_accounts b JOIN accounts a ON a.id = b.account_id
WHERE b.identifier = %(identifier)s AND b.currency = %(currency)s
FOR UPDATE OF b
