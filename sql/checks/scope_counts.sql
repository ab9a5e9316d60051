-- How much a run covers: the accounts and transactions in its scope.
SELECT
    (SELECT count(*)
     FROM accounts a
     WHERE {period_start} = '-infinity'::timestamptz
        OR a.id IN (SELECT account_id FROM entries
                    WHERE created_at >= {period_start} AND created_at < {period_end})) AS accounts_checked,
    (SELECT count(*)
     FROM transactions
     WHERE created_at >= {period_start} AND created_at < {period_end}) AS transactions_checked
