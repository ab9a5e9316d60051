-- One round of a one-to-one rule: each line and entry that meet the rule's condition and are each
-- other's best candidate (smallest amount difference, then days apart, then ord) are matched.
-- Mutual best pairs never compete for a line or an entry; the caller repeats the round until it
-- matches nothing, and each round matches at least the best remaining pair.
WITH candidates AS (
    SELECT l.id AS line_id, e.id AS entry_id, l.bank_account_id, l.ord AS line_ord, e.ord AS entry_ord,
           l.amount - e.amount AS amount_difference, e.day - l.day AS days_difference
    FROM match_lines l
    JOIN match_entries e ON e.account_id = l.account_id AND e.currency = l.currency
    WHERE NOT l.taken AND NOT e.taken AND ({condition})
      AND NOT EXISTS (SELECT FROM undone_pairs u WHERE u.line_id = l.id AND u.entry_id = e.id)
), ranked AS (
    SELECT c.*,
           row_number() OVER (PARTITION BY line_id
                              ORDER BY abs(amount_difference), abs(days_difference), entry_ord) AS for_line,
           row_number() OVER (PARTITION BY entry_id
                              ORDER BY abs(amount_difference), abs(days_difference), line_ord) AS for_entry
    FROM candidates c
), chosen AS (
    INSERT INTO proposed (bank_account_id, rule, strategy, amount_difference, days_difference, line_ids,
                          entry_ids, ord)
    SELECT bank_account_id, {rule}, 'one_to_one', amount_difference, days_difference, ARRAY[line_id],
           ARRAY[entry_id], line_ord
    FROM ranked
    WHERE for_line = 1 AND for_entry = 1
    RETURNING line_ids[1] AS line_id, entry_ids[1] AS entry_id
), lines AS (
    UPDATE match_lines SET taken = true WHERE id IN (SELECT line_id FROM chosen)
)
UPDATE match_entries SET taken = true WHERE id IN (SELECT entry_id FROM chosen)
