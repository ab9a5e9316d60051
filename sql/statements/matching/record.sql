-- The pass's matches, recorded. The partial unique indexes refuse a line or an entry already in an
-- active match, should anything but the matcher's lock have let one through.
WITH matches AS (
    INSERT INTO statement_matches (id, bank_account_id, rule, strategy, amount_difference, days_difference)
    SELECT id, bank_account_id, rule, strategy, amount_difference, days_difference FROM proposed
    RETURNING id
)
INSERT INTO statement_match_links (match_id, statement_line_id, entry_id)
SELECT p.id, line_id, NULL::uuid FROM proposed p, unnest(p.line_ids) AS line_id
UNION ALL
SELECT p.id, NULL::uuid, entry_id FROM proposed p, unnest(p.entry_ids) AS entry_id
