-- The ledger records the nightly audit_trail_complete compares with their trail: those written or
-- audited since the last intact verification (written: sql/audit/nightly/written_since.sql's ids,
-- as literals), and every record with an audit row in the rotating slice's blocks (targets, those
-- of seals up to verified_head), so that a row deleted or rewritten long ago without an audit row
-- is found within the slice's cycle. The slice is read block by block through the seq index
-- (OFFSET 0, as in sql/audit/nightly/rows.sql: else every audit row is tested against every block).
SELECT DISTINCT table_name, record_id FROM (
    {written}
    SELECT a.table_name, a.record_id
    FROM (SELECT DISTINCT block FROM ({targets}) t WHERE seal_no <= {verified_head}) ob
    CROSS JOIN LATERAL (SELECT table_name, record_id FROM audit_log a
                        WHERE a.seq >= ob.block * 4096 AND a.seq < ob.block * 4096 + 4096 OFFSET 0) a
) r
WHERE record_id IS NOT NULL
