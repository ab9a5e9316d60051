-- The audit rows the nightly audit_log_intact re-hashes (sql/checks/audit/audit_log_intact.sql):
-- every row of the seals made after the last intact verification's head (verified_head), and any
-- row that claims an older sealed range while its seq is above every seq that range held (an
-- insertion); and the rows of the older blocks among targets (sql/audit/targets.sql: the rotating
-- slice and the random blocks), read by seq through the index, block by block: OFFSET 0 keeps the
-- planner from pulling the subquery up into one join that tests every sealed row against every
-- slice block (BENCHMARKS.md: 99.8M comparisons at 1M entries). Each row read once.
WITH verified AS (
    SELECT coalesce(max(to_txid), 0) AS top_txid, coalesce(max(last_seq), -1) AS top_seq
    FROM audit_seals WHERE seal_no <= {verified_head}
), targets AS (
    {targets}
), old_blocks AS (
    SELECT DISTINCT block FROM targets WHERE seal_no <= {verified_head}
), read AS (
    SELECT r.* FROM audit_log r, verified v WHERE r.txid >= v.top_txid OR r.seq > v.top_seq
    UNION ALL
    SELECT r.*
    FROM old_blocks ob
    CROSS JOIN verified v
    CROSS JOIN LATERAL (SELECT * FROM audit_log r
                        WHERE r.seq >= ob.block * 4096 AND r.seq < ob.block * 4096 + 4096
                          AND r.txid < v.top_txid AND r.seq <= v.top_seq OFFSET 0) r
)
SELECT * FROM read
