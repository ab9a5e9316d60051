SELECT id, currency, account_type, user_id FROM accounts WHERE code = %(account_code)s
