-- How many transactions a whole-ledger run covers. A full run: every transaction. The hourly
-- check: those with an entry that arrived since the checkpoint.
SELECT CASE WHEN {full} THEN (SELECT count(*) FROM transactions)
            ELSE (SELECT count(DISTINCT transaction_id) FROM entries WHERE arrival_xid >= {previous}) END
