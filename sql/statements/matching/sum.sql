-- One round of the exact-sum rule: one item on one side (a line, or an entry) settled by several
-- of the other side, of the same sign, each smaller, within the date window, summing to it
-- exactly, at most the group size.
-- Bounded: each item considers only its {candidates} nearest candidates (days apart, then the
-- fixed order of prepare.sql), so it builds at most the combinations of up to group size - 1 of
-- them (with the defaults, 16 + 120), and finds the last member of each by its amount in a hash
-- join rather than by enumerating a third level. Unbounded, the combinations grow with the cube of
-- the entries in the window: on a dense account one left-over line kept a pass busy for minutes.
-- Of each item's combinations the one with the fewest members, then the nearest (by candidate
-- rank, member by member), is kept; where two claim a member, the one earlier in the fixed order
-- wins it and the other waits for the next round (the caller repeats until a round matches
-- nothing). Days are the entry's less the line's, whichever side is the one.
WITH RECURSIVE ones AS (
    SELECT o.*, row_number() OVER (ORDER BY {one_order}) AS one_ord
    FROM {one} o
    WHERE o.amount <> 0
), near AS (
    SELECT o.id AS one_id, o.one_ord, o.amount AS target, m.id, m.amount, {entry_day} - {line_day} AS days,
           row_number() OVER (PARTITION BY o.id ORDER BY abs(m.day - o.day), {many_order}) AS n
    FROM ones o
    -- Each day of the window by equality, so the join hashes on the day too, not only the account.
    CROSS JOIN generate_series(-{window}, {window}) AS d (days)
    JOIN {many} m ON m.account_id = o.account_id AND m.currency = o.currency AND m.day = o.day + d.days
    WHERE sign(m.amount) = sign(o.amount) AND abs(m.amount) < abs(o.amount)
      AND {pair} NOT IN (SELECT line_id, entry_id FROM undone_pairs)  -- hashed, as in same_day.sql
), members AS (
    SELECT * FROM near WHERE n <= {candidates}
), partial AS (
    -- Combinations short of the target, of up to group size - 1 members, in candidate order.
    SELECT one_id, one_ord, target, ARRAY[id] AS ids, ARRAY[n] AS ns, amount AS total, n AS last,
           days AS days_difference
    FROM members
    UNION ALL
    SELECT p.one_id, p.one_ord, p.target, p.ids || m.id, p.ns || m.n, p.total + m.amount, m.n,
           CASE WHEN abs(m.days) > abs(p.days_difference) THEN m.days ELSE p.days_difference END
    FROM partial p
    JOIN members m ON m.one_id = p.one_id AND m.n > p.last
    WHERE cardinality(p.ids) < {max_group} - 1 AND abs(p.total + m.amount) < abs(p.target)
), found AS (
    -- The last member is the one whose amount is what the combination lacks.
    SELECT DISTINCT ON (p.one_id) p.one_id, p.one_ord, p.ids || m.id AS ids,
           CASE WHEN abs(m.days) > abs(p.days_difference) THEN m.days ELSE p.days_difference END AS days_difference
    FROM partial p
    JOIN members m ON m.one_id = p.one_id AND m.amount = p.target - p.total AND m.n > p.last
    ORDER BY p.one_id, cardinality(p.ids), p.ns || m.n
), claims AS (
    SELECT f.one_id, f.one_ord, member FROM found f, unnest(f.ids) AS member
), accepted AS (
    SELECT f.* FROM found f
    WHERE NOT EXISTS (SELECT FROM claims a JOIN claims b ON b.member = a.member AND b.one_ord < a.one_ord
                      WHERE a.one_id = f.one_id)
), chosen AS (
    INSERT INTO proposed (bank_account_id, rule, strategy, amount_difference, days_difference, line_ids, entry_ids)
    SELECT (SELECT l.bank_account_id FROM match_lines l WHERE l.id = ({line_ids})[1]), 'sum', {strategy}, 0,
           days_difference, {line_ids}, {entry_ids}
    FROM accepted
    RETURNING id
), ones_taken AS (
    DELETE FROM {one} WHERE id IN (SELECT one_id FROM accepted)
)
DELETE FROM {many} WHERE id IN (SELECT unnest(ids) FROM accepted)
