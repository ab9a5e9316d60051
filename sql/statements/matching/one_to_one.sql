-- One round of a one-to-one rule: each line and entry that meet the rule's condition and are each
-- other's best candidate (smallest amount difference, then days apart, then the fixed order of
-- prepare.sql) are matched, and leave the work tables. Mutual best pairs never compete for a line
-- or an entry; the caller repeats the round until it matches nothing, and each round matches at
-- least the best remaining pair.
WITH candidates AS (
    SELECT l.id AS line_id, e.id AS entry_id, l.bank_account_id, l.amount - e.amount AS amount_difference,
           e.day - l.day AS days_difference, l.day AS line_day, l.closing_date, l.sequence_number, l.page_number,
           l.line_number, e.created_at
    FROM match_lines l
    -- Each day of the window by equality, so the join hashes on the day too, not only the account.
    CROSS JOIN generate_series(-{window}, {window}) AS d (days)
    JOIN match_entries e ON e.account_id = l.account_id AND e.currency = l.currency AND e.day = l.day + d.days
    WHERE ({condition})
      AND (l.id, e.id) NOT IN (SELECT line_id, entry_id FROM undone_pairs)  -- hashed, as in same_day.sql
), ranked AS (
    SELECT c.*,
           row_number() OVER (PARTITION BY line_id
                              ORDER BY abs(amount_difference), abs(days_difference), created_at, entry_id) AS for_line,
           row_number() OVER (PARTITION BY entry_id
                              ORDER BY abs(amount_difference), abs(days_difference), line_day, closing_date,
                                       sequence_number, page_number, line_number, line_id) AS for_entry
    FROM candidates c
), chosen AS (
    INSERT INTO proposed (bank_account_id, rule, strategy, amount_difference, days_difference, line_ids, entry_ids)
    SELECT bank_account_id, {rule}, 'one_to_one', amount_difference, days_difference, ARRAY[line_id], ARRAY[entry_id]
    FROM ranked
    WHERE for_line = 1 AND for_entry = 1
    RETURNING line_ids[1] AS line_id, entry_ids[1] AS entry_id
), lines AS (
    DELETE FROM match_lines WHERE id IN (SELECT line_id FROM chosen)
)
DELETE FROM match_entries WHERE id IN (SELECT entry_id FROM chosen)
