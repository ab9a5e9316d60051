-- The mapping a statement's account and currency need, locked until the import commits: imports
-- to one account take turns, so a derived opening balance reads the closing before it.
SELECT id FROM bank_accounts WHERE identifier = %(identifier)s AND currency = %(currency)s
FOR NO KEY UPDATE
