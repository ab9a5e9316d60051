-- A person's match of one line with entries, with the reason; the audit log records who.
WITH made AS (
    INSERT INTO statement_matches (bank_account_id, rule, strategy, amount_difference, days_difference, manual,
                                   reason)
    VALUES (%(bank_account_id)s, 'manual', %(strategy)s, %(amount_difference)s, %(days_difference)s, true,
            %(reason)s)
    RETURNING id
), links AS (
    INSERT INTO statement_match_links (match_id, statement_line_id, entry_id)
    SELECT id, %(line_id)s, NULL::uuid FROM made
    UNION ALL
    SELECT id, NULL::uuid, entry_id FROM made, unnest(%(entry_ids)s::uuid[]) AS entry_id
)
SELECT id FROM made
