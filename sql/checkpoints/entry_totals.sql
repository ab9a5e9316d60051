-- The totals both totals_from_ files group entries into, per account and entry currency: the
-- columns of a SELECT ... FROM entries ... GROUP BY account_id, currency (a part, put in as it is).
account_id,
currency,
coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0) AS debits,
coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0) AS credits,
count(*) AS entries
