-- How much a whole-ledger run covers. A full run: every account and transaction. The hourly check
-- reads the checkpoint plus what arrived since: the accounts and transactions it read anew.
SELECT
    CASE WHEN {full} THEN (SELECT count(*) FROM accounts)
         ELSE (SELECT count(DISTINCT account_id) FROM run_totals WHERE arrived > 0) END AS accounts_checked,
    CASE WHEN {full} THEN (SELECT count(*) FROM transactions)
         ELSE (SELECT count(DISTINCT transaction_id) FROM entries WHERE arrival_xid >= {previous}) END
        AS transactions_checked
