-- One round of the exact-sum rule: one item on one side (a line, or an entry) settled by several
-- of the other side, of the same sign, within the date window, summing to it exactly, at most the
-- group size. Combinations are built in ord order and cut as soon as they pass the amount, so
-- each is built once. Each one's best combination (fewest members, then earliest by ord) is
-- kept; where two claim a member, the one earlier by ord wins it and the other waits for the
-- next round (the caller repeats until a round matches nothing). Days are the entry's less the
-- line's, whichever side is the one.
WITH RECURSIVE members AS (
    SELECT o.id AS one_id, o.amount AS target, o.ord AS one_ord, m.id, m.amount, m.ord,
           {entry_day} - {line_day} AS days
    FROM {one} o
    JOIN {many} m ON m.account_id = o.account_id AND m.currency = o.currency
    WHERE NOT o.taken AND NOT m.taken AND o.amount <> 0
      AND sign(m.amount) = sign(o.amount) AND abs(m.amount) < abs(o.amount)
      AND abs(m.day - o.day) <= {window}
      AND NOT EXISTS (SELECT FROM undone_pairs u WHERE (u.line_id, u.entry_id) = {pair})
), combos AS (
    SELECT one_id, target, one_ord, ARRAY[id] AS ids, ARRAY[ord] AS ords, amount AS total, ord AS last_ord,
           days AS days_difference
    FROM members
    UNION ALL
    SELECT c.one_id, c.target, c.one_ord, c.ids || m.id, c.ords || m.ord, c.total + m.amount, m.ord,
           CASE WHEN abs(m.days) > abs(c.days_difference) THEN m.days ELSE c.days_difference END
    FROM combos c
    JOIN members m ON m.one_id = c.one_id AND m.ord > c.last_ord
    WHERE cardinality(c.ids) < {max_group} AND abs(c.total + m.amount) <= abs(c.target)
), found AS (
    SELECT DISTINCT ON (one_id) one_id, one_ord, ids, days_difference
    FROM combos
    WHERE cardinality(ids) >= 2 AND total = target
    ORDER BY one_id, cardinality(ids), ords
), claims AS (
    SELECT f.one_id, f.one_ord, member FROM found f, unnest(f.ids) AS member
), accepted AS (
    SELECT f.* FROM found f
    WHERE NOT EXISTS (SELECT FROM claims a JOIN claims b ON b.member = a.member AND b.one_ord < a.one_ord
                      WHERE a.one_id = f.one_id)
), chosen AS (
    INSERT INTO proposed (bank_account_id, rule, strategy, amount_difference, days_difference, line_ids,
                          entry_ids, ord)
    SELECT (SELECT l.bank_account_id FROM match_lines l WHERE l.id = ({line_ids})[1]), 'sum', {strategy}, 0,
           days_difference, {line_ids}, {entry_ids}, one_ord
    FROM accepted
    RETURNING id
), ones AS (
    UPDATE {one} SET taken = true WHERE id IN (SELECT one_id FROM accepted)
)
UPDATE {many} SET taken = true WHERE id IN (SELECT unnest(ids) FROM accepted)
