-- The amount_date rule's first step: the k-th line of an amount and day with the k-th entry of the
-- same amount and day (day_rank, prepare.sql), by one join. Nothing is nearer than the same day, and
-- the rounds (one_to_one.sql) would pair these in that same order; they get what is left: the
-- lines whose entry is on another day. Ranks are of the pass's start: where an earlier rule took a
-- line or an entry of a day and amount, a k-th may find no partner here and go to the rounds.
-- The lines are deleted by the join itself (the ranks make it one to one), which returns the pairs.
WITH paired AS (
    DELETE FROM match_lines l
    USING match_entries e
    WHERE e.amount = l.amount AND e.day = l.day AND e.day_rank = l.day_rank
      AND e.account_id = l.account_id AND e.currency = l.currency
      -- NOT IN: a hashed subplan, where an anti join planned without statistics loops over the pairs.
      AND (l.id, e.id) NOT IN (SELECT line_id, entry_id FROM undone_pairs)
    RETURNING l.bank_account_id, l.id AS line_id, e.id AS entry_id
), chosen AS (
    INSERT INTO proposed (bank_account_id, rule, strategy, amount_difference, days_difference, line_ids, entry_ids)
    SELECT bank_account_id, 'amount_date', 'one_to_one', 0, 0, ARRAY[line_id], ARRAY[entry_id]
    FROM paired
)
DELETE FROM match_entries WHERE id IN (SELECT entry_id FROM paired)
