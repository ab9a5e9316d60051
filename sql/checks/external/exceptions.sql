-- An external run's open items (its mismatches), largest first: what the exceptions report holds.
SELECT i.check_name, i.details ->> 'aspect' AS aspect, a.code AS account_code,
       coalesce(i.details ->> 'bank_account', '') AS bank_account, coalesce(i.details ->> 'statement', '') AS statement,
       i.currency::text AS currency, i.expected, i.actual, i.difference, i.transaction_id::text AS transaction_id,
       i.details::text AS details
FROM reconciliation_items i
LEFT JOIN accounts a ON a.id = i.account_id
WHERE i.run_id = %(run_id)s AND i.status = 'mismatch'
ORDER BY abs(i.difference) DESC NULLS LAST, i.check_name, i.id
