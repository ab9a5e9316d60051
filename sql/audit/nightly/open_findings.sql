-- The records the last verification found not to agree with their trail: the nightly
-- audit_trail_complete compares them again, so a finding is reported every night until the row or
-- its trail is put right (a row changed with the triggers off keeps its arrival, and its slice
-- comes round only every N runs). One row per table: its ids, as sql/audit/nightly/written_since.sql.
SELECT i.details ->> 'table' AS table_name, array_agg(DISTINCT i.details ->> 'record_id')::text AS ids
FROM reconciliation_items i
WHERE i.run_id = (SELECT run_id FROM audit_verifications ORDER BY id DESC LIMIT 1)
  AND i.check_name = 'audit_trail_complete' AND i.status = 'mismatch'
GROUP BY 1
