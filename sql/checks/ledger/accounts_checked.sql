-- How many accounts a whole-ledger run covers. A full run: every account. The hourly check reads
-- the checkpoint plus what arrived since: the accounts it read anew.
SELECT CASE WHEN {full} THEN (SELECT count(*) FROM accounts)
            ELSE (SELECT count(DISTINCT account_id) FROM run_totals WHERE arrived > 0) END
