-- The reference rule: a line whose end-to-end id (or else bank reference) is the external_reference
-- of ledger transactions. Lines and entries are grouped by that key: one line and its entries
-- (one-to-one, or one-to-many: a payout), or one entry and its lines (many-to-one), up to the
-- group size; a key both sides hold several times is left to the amount rules, and so is a group
-- of entries that lines of two bank accounts claim. The amounts may differ: the difference is
-- recorded with the match (and reported by statement_lines_matched). One statement, no rounds.
WITH references_held AS (
    -- Distinct, so the join below keeps one row per line: a hash join, where a correlated EXISTS
    -- would scan the entries once per line.
    SELECT DISTINCT account_id, currency, reference FROM match_entries WHERE NOT taken AND reference IS NOT NULL
), keyed AS (
    SELECT l.*, CASE WHEN r.reference IS NOT NULL THEN l.end_to_end_id ELSE l.bank_reference END AS key
    FROM match_lines l
    LEFT JOIN references_held r
           ON r.account_id = l.account_id AND r.currency = l.currency AND r.reference = l.end_to_end_id
    WHERE NOT l.taken
), line_groups AS (
    SELECT bank_account_id, account_id, currency, key, array_agg(id ORDER BY ord) AS line_ids,
           count(*) AS lines, sum(amount) AS amount, min(day) AS first_day, max(day) AS last_day, min(ord) AS ord
    FROM keyed
    WHERE key IS NOT NULL
    GROUP BY bank_account_id, account_id, currency, key
), entry_groups AS (
    SELECT account_id, currency, reference AS key, array_agg(id ORDER BY ord) AS entry_ids,
           count(*) AS entries, sum(amount) AS amount, min(day) AS first_day, max(day) AS last_day
    FROM match_entries
    WHERE NOT taken AND reference IS NOT NULL
    GROUP BY account_id, currency, reference
), pairs AS (
    SELECT l.bank_account_id, l.line_ids, e.entry_ids, l.ord, l.amount - e.amount AS amount_difference,
           CASE WHEN abs(e.last_day - l.first_day) >= abs(e.first_day - l.last_day)
                THEN e.last_day - l.first_day ELSE e.first_day - l.last_day END AS days_difference,
           CASE WHEN l.lines = 1 AND e.entries = 1 THEN 'one_to_one'
                WHEN l.lines = 1 THEN 'one_to_many' ELSE 'many_to_one' END AS strategy,
           greatest(l.lines, e.entries) AS size, least(l.lines, e.entries) AS smaller,
           count(*) OVER (PARTITION BY e.account_id, e.currency, e.key) AS claims
    FROM line_groups l
    JOIN entry_groups e USING (account_id, currency, key)
), chosen AS (
    INSERT INTO proposed (bank_account_id, rule, strategy, amount_difference, days_difference, line_ids,
                          entry_ids, ord)
    SELECT bank_account_id, 'reference', strategy, amount_difference, days_difference, line_ids, entry_ids, ord
    FROM pairs p
    WHERE claims = 1 AND smaller = 1 AND size <= {max_group}
      AND strategy = ANY ({strategies}::text[])
      AND NOT EXISTS (SELECT FROM undone_pairs u WHERE u.line_id = ANY (p.line_ids) AND u.entry_id = ANY (p.entry_ids))
    RETURNING line_ids, entry_ids
), lines AS (
    UPDATE match_lines SET taken = true WHERE id IN (SELECT unnest(line_ids) FROM chosen)
)
UPDATE match_entries SET taken = true WHERE id IN (SELECT unnest(entry_ids) FROM chosen)
