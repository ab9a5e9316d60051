-- match_entries: the entries in no active match of the ledger accounts mirroring the lines' bank
-- accounts, in the bank account's currency, within the date window of those lines, signed as the
-- bank sees the account (a debit of the mirrored asset account is a bank credit, positive), on
-- their day in the ledger's time zone. day_rank: as match_lines' (prepare.sql).
-- Only the days within the window of some line are read: each account's runs of such days come as
-- literal created_at ranges ({within}, written by matching.py from match_lines), so the planner
-- sees how few days a daily run reads and takes them from the created_at index, rather than the
-- account's whole history, and plans no join of them.
CREATE TEMP TABLE match_entries ON COMMIT DROP AS
SELECT e.*, row_number() OVER (PARTITION BY e.amount, e.day, e.account_id, e.currency ORDER BY e.created_at, e.id) AS day_rank
FROM (SELECT e.id, e.account_id, e.currency, e.transaction_id, e.created_at,
             CASE e.entry_type WHEN 'debit' THEN e.amount ELSE -e.amount END AS amount,
             (e.created_at AT TIME ZONE {timezone})::date AS day
      FROM entries e
      WHERE ({within})
        AND NOT EXISTS (SELECT FROM statement_match_links k WHERE k.entry_id = e.id AND k.active)) e;
