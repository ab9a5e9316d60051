-- The reference rule: a line whose end-to-end id (or else bank reference) is the external_reference
-- of ledger transactions. Lines and entries are grouped by that key: one line and its entries
-- (one-to-one, or one-to-many: a payout), or one entry and its lines (many-to-one), up to the
-- group size; a key both sides hold several times is left to the amount rules, and so is a group
-- of entries that lines of two bank accounts claim. The amounts may differ: the difference is
-- recorded with the match (and reported by statement_lines_matched). One statement, no rounds.
-- The entries' transactions are read through migration 019's index of those with a reference.
WITH referenced AS (
    SELECT e.id, e.account_id, e.currency, e.amount, e.day, e.created_at, t.metadata ->> 'external_reference' AS reference
    FROM match_entries e
    JOIN transactions t ON t.id = e.transaction_id
    WHERE t.metadata ? 'external_reference'
), references_held AS (
    -- Distinct, so the join below keeps one row per line: a hash join, where a correlated EXISTS
    -- would scan the entries once per line.
    SELECT DISTINCT account_id, currency, reference FROM referenced
), keyed AS (
    -- The end-to-end id where an entry holds it, else the bank reference; a line whose key no
    -- entry holds is left out before the grouping, which sorts what it groups.
    SELECT l.*, coalesce(by_end_to_end.reference, by_bank.reference) AS key
    FROM match_lines l
    LEFT JOIN references_held by_end_to_end
           ON by_end_to_end.account_id = l.account_id AND by_end_to_end.currency = l.currency
          AND by_end_to_end.reference = l.end_to_end_id
    LEFT JOIN references_held by_bank
           ON by_bank.account_id = l.account_id AND by_bank.currency = l.currency AND by_bank.reference = l.bank_reference
    WHERE coalesce(by_end_to_end.reference, by_bank.reference) IS NOT NULL
), line_groups AS (
    SELECT bank_account_id, account_id, currency, key,
           array_agg(id ORDER BY day, closing_date, sequence_number, page_number, line_number, id) AS line_ids,
           count(*) AS lines, sum(amount) AS amount, min(day) AS first_day, max(day) AS last_day
    FROM keyed
    GROUP BY bank_account_id, account_id, currency, key
), entry_groups AS (
    SELECT account_id, currency, reference AS key, array_agg(id ORDER BY created_at, id) AS entry_ids,
           count(*) AS entries, sum(amount) AS amount, min(day) AS first_day, max(day) AS last_day
    FROM referenced
    GROUP BY account_id, currency, reference
), pairs AS (
    SELECT l.bank_account_id, l.line_ids, e.entry_ids, l.amount - e.amount AS amount_difference,
           CASE WHEN abs(e.last_day - l.first_day) >= abs(e.first_day - l.last_day)
                THEN e.last_day - l.first_day ELSE e.first_day - l.last_day END AS days_difference,
           CASE WHEN l.lines = 1 AND e.entries = 1 THEN 'one_to_one'
                WHEN l.lines = 1 THEN 'one_to_many' ELSE 'many_to_one' END AS strategy,
           greatest(l.lines, e.entries) AS size, least(l.lines, e.entries) AS smaller,
           count(*) OVER (PARTITION BY e.account_id, e.currency, e.key) AS claims
    FROM line_groups l
    JOIN entry_groups e USING (account_id, currency, key)
), chosen AS (
    INSERT INTO proposed (bank_account_id, rule, strategy, amount_difference, days_difference, line_ids, entry_ids)
    SELECT bank_account_id, 'reference', strategy, amount_difference, days_difference, line_ids, entry_ids
    FROM pairs p
    WHERE claims = 1 AND smaller = 1 AND size <= {max_group}
      AND strategy = ANY ({strategies}::text[])
      AND NOT EXISTS (SELECT FROM undone_pairs u WHERE u.line_id = ANY (p.line_ids) AND u.entry_id = ANY (p.entry_ids))
    RETURNING line_ids, entry_ids
), lines AS (
    DELETE FROM match_lines WHERE id IN (SELECT unnest(line_ids) FROM chosen)
)
DELETE FROM match_entries WHERE id IN (SELECT unnest(entry_ids) FROM chosen)
