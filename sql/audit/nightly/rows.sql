-- The audit rows the nightly audit_log_intact re-hashes (sql/checks/audit/audit_log_intact.sql):
-- every row of the seals made after the last intact verification's head, and any row that claims
-- an older sealed range while its seq is above every seq that range held (an insertion): top_txid
-- and top_seq are that head's to_txid and last_seq, passed as literals so both conditions are
-- index conditions (BRIN on txid, the seq key) and the rows are found without reading the log;
-- and the rows of the older blocks among targets (sql/audit/targets.sql: the rotating slice and the
-- random blocks), read by seq through the index, block by block: OFFSET 0 keeps the planner from
-- pulling the subquery up into one join that tests every sealed row against every slice block
-- (BENCHMARKS.md: 99.8M comparisons at 1M entries). Each row read once.
SELECT r.* FROM audit_log r WHERE r.txid >= {top_txid} OR r.seq > {top_seq}
UNION ALL
SELECT r.*
FROM (SELECT DISTINCT block FROM ({targets}) t WHERE seal_no <= {verified_head}) ob
CROSS JOIN LATERAL (SELECT * FROM audit_log r
                    WHERE r.seq >= ob.block * 4096 AND r.seq < ob.block * 4096 + 4096
                      AND r.txid < {top_txid} AND r.seq <= {top_seq} OFFSET 0) r
