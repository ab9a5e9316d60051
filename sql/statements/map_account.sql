-- Maps a bank account identifier, in the ledger account's currency, to the ledger account that
-- mirrors it; mapping it again to another account corrects the mapping (an audited UPDATE).
INSERT INTO bank_accounts (identifier, currency, account_id)
VALUES (%(identifier)s, %(currency)s, %(account_id)s)
ON CONFLICT (identifier, currency) DO UPDATE SET account_id = EXCLUDED.account_id, mapped_at = now()
    WHERE bank_accounts.account_id <> EXCLUDED.account_id
