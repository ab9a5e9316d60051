-- The bank accounts a pass matches (all when the array is NULL), each with what its last
-- recorded pass saw (migration 020): NULLs when it has none.
SELECT b.id, b.account_id, b.currency, p.watermark, p.through, p.fingerprint
FROM bank_accounts b
LEFT JOIN statement_match_passes p ON p.bank_account_id = b.id
WHERE {bank_accounts}::uuid[] IS NULL OR b.id = ANY ({bank_accounts}::uuid[])
ORDER BY b.id
